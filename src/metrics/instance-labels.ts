/**
 * Extra labels from instance metadata and tags (`metrics.labels_from`), for
 * the per-check and per-instance families.
 *
 * Cardinality: each of those families already has a series per check or per
 * instance, so these labels add no series; they only name them (a team, a
 * tier). Only the allowlisted keys are read, and a value changes only when
 * the instance's metadata does.
 */
import { RESERVED_LABEL_NAMES } from './names.js';
import { untilScrapeEnds } from './registrar.js';

/** What the metrics read about an instance to label its series. */
export interface InstanceInfo {
  readonly tags: readonly string[];
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * Looks an instance up by service and instance id; undefined when unknown
 * (its labels are then empty). Called once per instance per scrape: keep it O(1).
 */
export type InstanceInfoSource = (service: string, instance: string) => InstanceInfo | undefined;

/** Extra label name → value, spread into a sample's labels. */
export type ExtraLabels = Readonly<Record<string, string>>;

const NONE: ExtraLabels = Object.freeze({});
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * The value of `key` for an instance: `metadata[key]`, else the value of its
 * first `key=value` tag, else "" (which Prometheus reads as no label). A bare
 * tag (`canary`) names no key and is never read.
 */
export function instanceLabelValue(info: InstanceInfo | undefined, key: string): string {
  if (!info) return '';
  const fromMetadata = Object.hasOwn(info.metadata, key) ? info.metadata[key] : undefined;
  if (fromMetadata !== undefined) return fromMetadata;
  const prefix = `${key}=`;
  for (const tag of info.tags) if (tag.startsWith(prefix)) return tag.slice(prefix.length);
  return '';
}

/**
 * @throws TypeError for a name that is no Prometheus label name, is reserved
 *   (see RESERVED_LABEL_NAMES) or repeats; the config schema says the same with the YAML line.
 */
export function checkLabelsFrom(names: readonly string[]): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (!LABEL_NAME.test(name) || name.startsWith('__')) throw new TypeError(`labelsFrom: "${name}" is not a usable label name`);
    if (RESERVED_LABEL_NAMES.includes(name)) throw new TypeError(`labelsFrom: "${name}" is already a label of healthmesh's families`);
    if (seen.has(name)) throw new TypeError(`labelsFrom: "${name}" is named twice`);
    seen.add(name);
  }
}

/**
 * The extra labels of instances during one scrape: each instance is looked up
 * once however many families and checks ask, and nothing is kept afterwards,
 * so a metadata change shows at the next scrape.
 */
export class InstanceLabels {
  private cache: Map<string, ExtraLabels> | null = null;

  constructor(
    /** The allowlisted keys, in label order. */
    readonly names: readonly string[],
    private readonly source: InstanceInfoSource | undefined,
  ) {
    checkLabelsFrom(names);
  }

  /** Extra labels of one instance (the empty object when no keys are allowlisted). */
  of(service: string, instance: string): ExtraLabels {
    if (this.names.length === 0) return NONE;
    if (this.cache === null) {
      this.cache = new Map();
      const done = this.cache;
      // Kept for the scrape in progress; the next sees fresh metadata.
      untilScrapeEnds(() => {
        if (this.cache === done) this.cache = null;
      });
    }
    const key = `${service}/${instance}`;
    let labels = this.cache.get(key);
    if (labels === undefined) {
      const info = this.source?.(service, instance);
      const built: Record<string, string> = {};
      for (const name of this.names) built[name] = instanceLabelValue(info, name);
      labels = built;
      this.cache.set(key, labels);
    }
    return labels;
  }
}
