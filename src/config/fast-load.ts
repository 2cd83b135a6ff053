/**
 * The quick way through a valid config. js-yaml builds plain objects
 * straight from the text, without the `yaml` package's document model: for
 * 100,000 checks (5 MB) 0.3 s against 4.4 s (bench/config-load). And a
 * service whose text did not change since the previous load is not checked
 * again: its earlier result is reused as the same object, which is also how
 * a reload tells the registry that nothing in it changed.
 *
 * What this path cannot report well it leaves to the slow one: anything
 * unusual (a YAML error, an anchor or alias, an unset variable, a schema or
 * cross-check problem) returns null, and config/load.ts parses again with
 * `yaml`, which places every problem on its line. Both parse YAML 1.2's core
 * schema; test/config/fast-load.test.ts compares their results.
 */
import { createHash } from 'node:crypto';
import { load } from 'js-yaml';
import { crossChecks } from './cross-checks.js';
import { interpolateEnv } from './env.js';
import { configShellSchema, serviceSchema, type Config, type ServiceConfig } from './schema.js';

/** What a successful load gives: the config and the environment values it took. */
export interface FastLoad {
  config: Config;
  envValues: string[];
  /**
   * Services left out of `config.services` because the caller holds them
   * already (their fingerprints matched, see fastLoad): the config is then
   * partial, and not cross-checked; the caller checks it once assembled.
   */
  omitted: string[];
  /** Every service name, in file order (omitted ones included). */
  order: string[];
}

/** Each service's fingerprint: a hash of its text as validated (JSON of its interpolated YAML). */
export type ServiceFingerprints = Map<string, string>;

const fingerprintsByConfig = new WeakMap<Config, ServiceFingerprints>();

/** The service fingerprints of a loaded config (what a reload compares), if known. */
export function fingerprintsOf(config: Config): ServiceFingerprints | undefined {
  return fingerprintsByConfig.get(config);
}

/** Note the fingerprints of a config assembled elsewhere (config/off-thread.ts). */
export function rememberFingerprints(config: Config, fingerprints: ServiceFingerprints): void {
  fingerprintsByConfig.set(config, fingerprints);
}

/** Note the fingerprints of a config loaded the slow way, so the next load can reuse its services. */
export function rememberServiceFingerprints(config: Config, raw: unknown): void {
  const services = (raw as { services?: Record<string, unknown> }).services;
  if (!services || typeof services !== 'object') return;
  const fingerprints: ServiceFingerprints = new Map();
  for (const [name, value] of Object.entries(services)) fingerprints.set(name, fingerprint(value));
  fingerprintsByConfig.set(config, fingerprints);
}

/** A short hash of a service's text: kept per config instead of the text (5 MB at 100,000 checks) and cheap to send to a thread. */
function fingerprint(value: unknown): string {
  return createHash('sha1').update(JSON.stringify(value)).digest('base64');
}

/**
 * Parse and validate `text`; null when the slow path must tell what is
 * wrong. A service whose fingerprint is the same as in `previous` is not
 * validated again: given a config, its object is reused; given only
 * fingerprints (a thread that has no objects), it is left out (`omitted`).
 */
export function fastLoad(text: string, env: NodeJS.ProcessEnv, previous?: Config | ServiceFingerprints): FastLoad | null {
  let raw: unknown;
  try {
    // maxAliases 0: an alias shares its object, which the walk below and zod
    // would visit once per use (a "billion laughs" file); the slow path caps them.
    raw = load(text, { maxAliases: 0 });
  } catch {
    return null;
  }
  if (!isPlainObject(raw)) return null;
  const walk = new Interpolation(env);
  raw = walk.value(raw);
  if (walk.failed || !isPlainObject(raw)) return null;

  const shell = configShellSchema.safeParse(raw);
  if (!shell.success) return null;
  const previousConfig = previous instanceof Map ? undefined : previous;
  const before = previous instanceof Map ? previous : previous ? fingerprintsByConfig.get(previous) : undefined;
  const fingerprints: ServiceFingerprints = new Map();
  const services: Record<string, ServiceConfig> = {};
  const omitted: string[] = [];
  for (const [name, value] of Object.entries(shell.data.services)) {
    const print = fingerprint(value);
    fingerprints.set(name, print);
    if (walk.comparable && before?.get(name) === print) {
      const kept = previousConfig?.services[name];
      if (kept) {
        services[name] = kept;
        continue;
      }
      if (!previousConfig) {
        omitted.push(name);
        continue;
      }
    }
    const parsed = serviceSchema.safeParse(value);
    if (!parsed.success) return null;
    services[name] = parsed.data;
  }
  const config: Config = { ...shell.data, services };
  if (omitted.length === 0 && crossChecks(config).length > 0) return null;
  if (walk.comparable) fingerprintsByConfig.set(config, fingerprints);
  return { config, envValues: walk.used, omitted, order: Object.keys(shell.data.services) };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** ${VAR} in every string, keys included (as the slow path does), building new objects only where one changes. */
class Interpolation {
  readonly used: string[] = [];
  /** An unset variable: the slow path reports it with its line. */
  failed = false;
  /** False when JSON text would hide a difference (±Infinity and NaN all print as null): then nothing is reused. */
  comparable = true;

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  value(value: unknown): unknown {
    if (typeof value === 'string') return this.text(value);
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) this.comparable = false;
      return value;
    }
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) value[i] = this.value(value[i]);
      return value;
    }
    if (value !== null && typeof value === 'object') {
      const object = value as Record<string, unknown>;
      let renamed = false;
      for (const key of Object.keys(object)) {
        // Assigning to "__proto__" would set the prototype: leave such a file to the slow path.
        if (key === '__proto__') this.failed = true;
        else object[key] = this.value(object[key]);
        if (key.includes('${')) renamed = true;
      }
      if (!renamed) return object;
      // Rebuilt in order, so interpolated keys keep their place.
      const out: Record<string, unknown> = {};
      for (const [key, v] of Object.entries(object)) out[this.text(key)] = v;
      return out;
    }
    return value;
  }

  private text(text: string): string {
    if (!text.includes('${')) return text;
    const { value, missing, used } = interpolateEnv(text, this.env);
    if (missing.length > 0) this.failed = true;
    this.used.push(...used);
    return value;
  }
}
