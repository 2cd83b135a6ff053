/**
 * Secrets that must never leave the daemon: token values, ${VAR} values from
 * the environment, secret-named settings (passwords, notifier URLs), secret
 * request headers of checks and metadata marked secret. The set is known
 * once (config) and grows at run time (registrations); every output passes
 * through `redact` (log lines, HTTP answers, event streams), which replaces
 * each secret, in raw, JSON-escaped and URL-encoded form, by [redacted].
 */

/** What a secret is replaced with. */
export const REDACTED = '[redacted]';

/**
 * Shorter values are not treated as secrets: redacting "8080" or "true"
 * everywhere would garble every answer, and such values guard nothing
 * (API tokens need 16 characters).
 */
export const MIN_SECRET_LENGTH = 8;

/** Setting names whose values are secrets wherever they sit in the config. */
const SECRET_KEY = /(^|_)(token|secret|password|passwd|api_?key|routing_key|integration_key|authorization|credentials?|private_key)$/i;
/** Header (and gRPC metadata) names whose values are secrets. */
const SECRET_HEADER = /auth|token|secret|key|cookie|pass|session|signature|credential/i;
/** Metadata keys marked secret by their prefix. */
export const SECRET_METADATA_PREFIX = 'secret.';

/** Anything that can redact a text. */
export interface Redactor {
  redact(text: string): string;
}

export class SecretSet implements Redactor {
  private readonly values = new Set<string>();
  private pattern: RegExp | null = null;

  /** Number of secret values held. */
  get size(): number {
    return this.values.size;
  }

  /** Add a secret (ignored below MIN_SECRET_LENGTH). */
  add(value: string | undefined): void {
    if (value === undefined || value.length < MIN_SECRET_LENGTH || this.values.has(value)) return;
    this.values.add(value);
    this.pattern = null;
  }

  addAll(values: Iterable<string>): void {
    for (const v of values) this.add(v);
  }

  /** `text` with every secret replaced by [redacted]. */
  redact(text: string): string {
    if (this.values.size === 0) return text;
    this.pattern ??= buildPattern(this.values);
    return text.replace(this.pattern, REDACTED);
  }
}

/** One alternation of every form of every secret, longest first (a secret inside a longer one must not cut it). */
function buildPattern(values: Iterable<string>): RegExp {
  const forms = new Set<string>();
  for (const v of values) {
    forms.add(v);
    forms.add(JSON.stringify(v).slice(1, -1));
    forms.add(encodeURIComponent(v));
  }
  const sorted = [...forms].filter((f) => f.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
  return new RegExp(sorted.map((f) => f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
}

/**
 * The secrets written in a config (or any settings object): values of
 * secret-named keys, secret headers and gRPC metadata, and notifier URLs
 * (a Slack or webhook URL is itself the credential).
 */
export function settingSecrets(value: unknown, path: readonly string[] = []): string[] {
  const found: string[] = [];
  const walk = (v: unknown, p: readonly string[]): void => {
    if (typeof v === 'string') {
      const key = p[p.length - 1] ?? '';
      const parent = p[p.length - 2] ?? '';
      if (SECRET_KEY.test(key)) found.push(v);
      else if ((parent === 'headers' || parent === 'metadata') && SECRET_HEADER.test(key) && p[p.length - 3] !== undefined && isCheckOrNotifier(p))
        found.push(v);
      else if (p[0] === 'alerts' && p[1] === 'notifiers' && /url$/i.test(key)) found.push(v);
      else if (parent === 'metadata' && key.startsWith(SECRET_METADATA_PREFIX)) found.push(v);
      return;
    }
    if (Array.isArray(v)) {
      v.forEach((item, i) => {
        walk(item, [...p, String(i)]);
      });
    } else if (v && typeof v === 'object') for (const [k, item] of Object.entries(v)) walk(item, [...p, k]);
  };
  walk(value, path);
  return found;
}

/** The secrets of each service object already walked: a reload reuses unchanged services as the same objects (config/fast-load.ts). */
const serviceSecrets = new WeakMap<object, string[]>();

/** settingSecrets of a whole config, walking only the services not walked before. */
export function configSecrets(config: { services: Record<string, object> }): string[] {
  const { services, ...rest } = config;
  const found = settingSecrets(rest);
  for (const [name, service] of Object.entries(services)) {
    let own = serviceSecrets.get(service);
    if (!own) {
      own = settingSecrets(service, ['services', name]);
      serviceSecrets.set(service, own);
    }
    found.push(...own);
  }
  return found;
}

/** Whether a headers/metadata map at `path` belongs to a check or a notifier (an instance's `metadata` is not headers). */
function isCheckOrNotifier(path: readonly string[]): boolean {
  const parent = path[path.length - 2];
  if (parent === 'headers') return true;
  // `metadata` of a gRPC check (call metadata) sits in a checks list; an instance's own metadata does not.
  return path.includes('checks');
}

/** The secrets of an instance as registered: secret headers and call metadata of its checks, and metadata marked secret. */
export function instanceSecrets(instance: { metadata: Record<string, string>; ownChecks: readonly unknown[] }): string[] {
  const marked = Object.entries(instance.metadata)
    .filter(([k]) => k.startsWith(SECRET_METADATA_PREFIX))
    .map(([, v]) => v);
  return [...marked, ...settingSecrets(instance.ownChecks, ['checks'])];
}
