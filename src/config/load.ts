import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Document, LineCounter, Node } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../core/errors.js';
import { SecretSet } from '../security/secrets.js';
import { crossChecks } from './cross-checks.js';
import { interpolateEnv } from './env.js';
import { fastLoad, rememberServiceFingerprints } from './fast-load.js';
import { formatPath, type PathPart } from './path.js';
import { configSchema, type Config } from './schema.js';

/** Options for loading a config. */
export interface LoadOptions {
  /** Shown in error messages; default "config". */
  file?: string;
  /** Environment for ${VAR} interpolation; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The config loaded before (a reload): its services whose text did not change are reused as they are. */
  previous?: Config;
}

const envValuesByConfig = new WeakMap<Config, readonly string[]>();

// `yaml` (its document model gives every problem a line) is required only when a config has something to
// report: a valid config loads through js-yaml, and a daemon never needs it (0.7 MB of RSS, bench/daemon-idle).
const requireCjs = createRequire(import.meta.url);
let yamlModule: typeof import('yaml') | null = null;
function yaml(): typeof import('yaml') {
  yamlModule ??= requireCjs('yaml') as typeof import('yaml');
  return yamlModule;
}

/** The values a parsed config took from the environment (${VAR}): the daemon keeps them out of every output. */
export function envValuesOf(config: Config): readonly string[] {
  return envValuesByConfig.get(config) ?? [];
}

/** Note the environment values of a config assembled elsewhere (config/off-thread.ts). */
export function rememberEnvValues(config: Config, values: readonly string[]): void {
  envValuesByConfig.set(config, values);
}

/** Read, interpolate, parse and validate a config file. Throws ConfigError with every problem. */
export async function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env, previous?: Config): Promise<Config> {
  return parseConfig(await readConfigText(path), { file: path, env, ...(previous ? { previous } : {}) });
}

/** The text of a config file; a ConfigError naming the file when it cannot be read. */
export async function readConfigText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError([{ path: '', message: `cannot read file (${code})` }], path);
  }
}

/** Parse and validate config text. Throws ConfigError listing every problem with its YAML path and line. */
export function parseConfig(text: string, options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const fast = fastLoad(text, env, options.previous);
  if (fast) {
    envValuesByConfig.set(fast.config, fast.envValues);
    return fast.config;
  }
  return parseConfigWithLines(text, options);
}

/**
 * The slow, thorough way: `yaml`'s document model, so every problem is
 * reported with its line and column. parseConfig takes it when the quick
 * path (config/fast-load.ts) finds anything to report.
 */
export function parseConfigWithLines(text: string, options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const { LineCounter, parseDocument } = yaml();
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const issues: ConfigIssue[] = [];

  for (const err of doc.errors) {
    const pos = lineCounter.linePos(err.pos[0]);
    issues.push({ path: '', line: pos.line, column: pos.col, message: `YAML syntax: ${firstLine(err.message)}` });
  }
  if (issues.length) throw new ConfigError(issues, options.file);

  const envValues: string[] = [];
  issues.push(...interpolate(doc, env, lineCounter, envValues));
  const raw = doc.toJS() ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError([{ path: '', line: 1, message: 'the config must be a mapping with a services: section' }], options.file);
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    // An unset ${VAR} is already reported; skip the schema's complaint about the same field.
    const envPaths = new Set(issues.map((i) => i.path));
    for (const zodIssue of parsed.error.issues) {
      const issue = toConfigIssue(zodIssue, doc, lineCounter, raw);
      if (!envPaths.has(issue.path)) issues.push(issue);
    }
  }
  if (parsed.success) issues.push(...crossChecks(parsed.data).map((i) => locate(i.path, i.message, doc, lineCounter)));
  if (issues.length || !parsed.success) {
    // A message may quote a value: one taken from the environment is a secret.
    const secrets = new SecretSet();
    secrets.addAll(envValues);
    throw new ConfigError(
      sortIssues(issues).map((i) => ({ ...i, message: secrets.redact(i.message) })),
      options.file,
    );
  }
  envValuesByConfig.set(parsed.data, envValues);
  rememberServiceFingerprints(parsed.data, raw);
  return parsed.data;
}

/** Replace ${VAR} in every string scalar, in place, reporting unset variables. */
function interpolate(doc: Document, env: NodeJS.ProcessEnv, lc: LineCounter, envValues: string[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  yaml().visit(doc, {
    Scalar(_key, node, ancestry) {
      if (typeof node.value !== 'string' || !node.value.includes('${')) return;
      const { value, missing, used } = interpolateEnv(node.value, env);
      node.value = value;
      envValues.push(...used);
      for (const name of missing) {
        const pos = node.range ? lc.linePos(node.range[0]) : undefined;
        issues.push({
          path: formatPath(pathOf(ancestry, node)),
          line: pos?.line,
          column: pos?.col,
          message: `environment variable ${name} is not set (set it, or write \${${name}:-default})`,
        });
      }
    },
  });
  return issues;
}

/** Rebuild the key path of a node from the visitor's ancestry. */
function pathOf(ancestry: readonly unknown[], target: unknown): PathPart[] {
  const path: PathPart[] = [];
  const chain = [...ancestry, target];
  for (let i = 0; i < chain.length - 1; i++) {
    const parent = chain[i];
    const child = chain[i + 1];
    if (yaml().isMap(parent)) continue;
    if (yaml().isSeq(parent)) path.push(parent.items.indexOf(child as never));
    else if (parent && typeof parent === 'object' && 'key' in parent && 'value' in parent) {
      const key = (parent as { key: unknown }).key;
      if ((parent as { value: unknown }).value === child) path.push(String(yaml().isScalar(key) ? key.value : key));
    }
  }
  return path;
}

function toConfigIssue(issue: z.core.$ZodIssue, doc: Document, lc: LineCounter, raw: unknown): ConfigIssue {
  const path = issue.path.filter((p): p is PathPart => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    const allowed = allowedKeysHint(issue.keys.length);
    return locate([...path, key], `unknown field${issue.keys.length > 1 ? `s ${issue.keys.join(', ')}` : ''}${allowed}`, doc, lc, true);
  }
  let message = issue.message;
  if (issue.code !== 'custom') {
    const found = valueAt(raw, path);
    if (found !== undefined && !message.includes('found')) message += ` (found: ${preview(found)})`;
    if (found === undefined && issue.code === 'invalid_type') message = `required: ${message}`;
  }
  return locate(path, message, doc, lc);
}

function allowedKeysHint(_count: number): string {
  return ' (check the spelling; `healthmesh schema` lists every field)';
}

/** Attach line/column of the deepest existing node on the path. */
function locate(path: PathPart[], message: string, doc: Document, lc: LineCounter, keyNode = false): ConfigIssue {
  for (let depth = path.length; depth >= 0; depth--) {
    const sub = path.slice(0, depth);
    const node = (keyNode && depth === path.length ? findKeyNode(doc, sub) : doc.getIn(sub, true)) as Node | undefined;
    if (node && typeof node === 'object' && 'range' in node && node.range) {
      const pos = lc.linePos(node.range[0]);
      return { path: formatPath(path), line: pos.line, column: pos.col, message };
    }
  }
  return { path: formatPath(path), message };
}

function findKeyNode(doc: Document, path: PathPart[]): unknown {
  const parent = doc.getIn(path.slice(0, -1), true);
  if (!yaml().isMap(parent)) return undefined;
  const pair = parent.items.find((p) => yaml().isScalar(p.key) && p.key.value === path[path.length - 1]);
  return pair?.key;
}

function valueAt(root: unknown, path: PathPart[]): unknown {
  let cur: unknown = root;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p as string];
  }
  return cur;
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function firstLine(text: string): string {
  return text.split('\n')[0]!;
}

function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  return issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}
