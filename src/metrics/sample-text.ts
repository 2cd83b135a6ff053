/**
 * The text exposition (Prometheus 0.0.4) of the computed families, written
 * here rather than by prom-client's Registry. prom-client formats and
 * escapes every label of every sample on every scrape; at 100,000 checks
 * (324,000 series with `per_check: status`) that was 2.4–2.6 s of CPU per
 * scrape, above the 1 s the daemon must answer /metrics in. Here the label
 * text of the labels objects state-families.ts keeps per check and instance
 * is formatted once (keptLabels), so a scrape mostly joins strings. The output is
 * byte for byte what prom-client writes (test/metrics/exposition.test.ts).
 */
import { Registry } from 'prom-client';
import type { Sample } from './on-scrape.js';
import { asOneScrape } from './registrar.js';

/** A family that writes its own exposition text (on-scrape.ts). */
export interface TextFamily {
  text(): string;
}

function isTextFamily(metric: object): metric is TextFamily {
  return typeof (metric as Partial<TextFamily>).text === 'function';
}

/**
 * The registry's exposition, as Registry.metrics() writes it, with each
 * computed family writing its own part. A registry set to OpenMetrics is
 * left to prom-client. Default labels of the registry (setDefaultLabels) are
 * not added to the computed families: healthmesh sets none.
 */
export async function renderExposition(registry: Registry): Promise<string> {
  if (registry.contentType !== Registry.PROMETHEUS_CONTENT_TYPE) return registry.metrics();
  return asOneScrape(async () => {
    const parts: string[] = [];
    for (const metric of registry.getMetricsAsArray()) {
      parts.push(isTextFamily(metric) ? metric.text() : await registry.getSingleMetricAsString(metric.name));
      // One family per turn: checks keep their schedule while a big scrape renders.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return `${parts.join('\n\n')}\n`;
  });
}

/** Label text of the label objects the families keep between scrapes (see keptLabels). */
const labelTexts = new WeakMap<object, string>();

/**
 * Mark a labels object as kept between scrapes: its text is formatted now,
 * once. Objects made afresh each scrape (the balancer's families) are
 * formatted each time instead, as prom-client does: caching them would
 * only add a WeakMap entry per sample per scrape.
 */
export function keptLabels<L extends Sample['labels']>(labels: L): L {
  labelTexts.set(labels, formatLabels(labels));
  return labels;
}

/** `{a="1",b="2"}` of a labels object. */
function labelText(labels: Sample['labels']): string {
  return labelTexts.get(labels) ?? formatLabels(labels);
}

function formatLabels(labels: Sample['labels']): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(labels)) {
    parts.push(`${name}="${typeof value === 'string' ? escapeText(value).replace(/"/g, '\\"') : value}"`);
  }
  return parts.length > 0 ? `{${parts.join(',')}}` : '';
}

function escapeText(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** As prom-client writes a value. */
function valueText(value: number): string {
  if (Number.isNaN(value)) return 'Nan';
  if (!Number.isFinite(value)) return value < 0 ? '-Inf' : '+Inf';
  return `${value}`;
}

/** One family's text: HELP, TYPE and a line per sample, no trailing newline. */
export function familyText(name: string, help: string, type: string, samples: readonly Sample[]): string {
  const escapedName = escapeText(name);
  const lines = [`# HELP ${escapedName} ${escapeText(help)}`, `# TYPE ${escapedName} ${type}`];
  for (const sample of samples) lines.push(`${escapedName}${labelText(sample.labels)} ${valueText(sample.value)}`);
  return lines.join('\n');
}
