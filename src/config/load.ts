import { readFile } from 'node:fs/promises';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../core/errors.js';
import { alertCrossChecks } from './alerts.js';
import { SecretSet } from '../security/secrets.js';
import { sloCrossChecks } from './slo.js';
import { interpolateEnv } from './env.js';
import { configSchema, type Config } from './schema.js';

type PathPart = string | number;

/** Options for loading a config. */
export interface LoadOptions {
  /** Shown in error messages; default "config". */
  file?: string;
  /** Environment for ${VAR} interpolation; default process.env. */
  env?: NodeJS.ProcessEnv;
}

const envValuesByConfig = new WeakMap<Config, readonly string[]>();

/** The values a parsed config took from the environment (${VAR}): the daemon keeps them out of every output. */
export function envValuesOf(config: Config): readonly string[] {
  return envValuesByConfig.get(config) ?? [];
}

/** Read, interpolate, parse and validate a config file. Throws ConfigError with every problem. */
export async function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError([{ path: '', message: `cannot read file (${code})` }], path);
  }
  return parseConfig(text, { file: path, env });
}

/** Parse and validate config text. Throws ConfigError listing every problem with its YAML path and line. */
export function parseConfig(text: string, options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
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
  return parsed.data;
}

/** Replace ${VAR} in every string scalar, in place, reporting unset variables. */
function interpolate(doc: Document, env: NodeJS.ProcessEnv, lc: LineCounter, envValues: string[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  visit(doc, {
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
    if (isMap(parent)) continue;
    if (isSeq(parent)) path.push(parent.items.indexOf(child as never));
    else if (parent && typeof parent === 'object' && 'key' in parent && 'value' in parent) {
      const key = (parent as { key: unknown }).key;
      if ((parent as { value: unknown }).value === child) path.push(String(isScalar(key) ? key.value : key));
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
  if (!isMap(parent)) return undefined;
  const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === path[path.length - 1]);
  return pair?.key;
}

/** Checks the schema cannot express: unique ids and names. */
function crossChecks(config: Config): Array<{ path: PathPart[]; message: string }> {
  const problems: Array<{ path: PathPart[]; message: string }> = [];
  for (const [serviceName, service] of Object.entries(config.services)) {
    service.depends_on.forEach((dep, i) => {
      if (!config.services[dep]) problems.push({ path: ['services', serviceName, 'depends_on', i], message: `no service named "${dep}"` });
      else if (dependsOnPath(config, dep, serviceName)) {
        problems.push({
          path: ['services', serviceName, 'depends_on', i],
          message: `"${dep}" depends on "${serviceName}" already: dependencies must not form a cycle`,
        });
      }
    });
    const quorumNeeded = (policy: string | undefined, quorum: number | undefined, at: PathPart[]) => {
      if (policy === 'k_of_n' && quorum === undefined) problems.push({ path: at, message: 'check_policy k_of_n needs check_quorum: k' });
    };
    quorumNeeded(service.check_policy, service.check_quorum, ['services', serviceName, 'check_policy']);
    service.instances.forEach((inst, i) => {
      quorumNeeded(inst.check_policy, inst.check_quorum ?? service.check_quorum, ['services', serviceName, 'instances', i, 'check_policy']);
    });
    const ids = new Map<string, number>();
    service.instances.forEach((inst, i) => {
      const id = inst.id ?? inst.address;
      const first = ids.get(id);
      if (first !== undefined) {
        problems.push({
          path: ['services', serviceName, 'instances', i, inst.id ? 'id' : 'address'],
          message: `instance id "${id}" is already used by instances[${first}] (give each instance a distinct id:)`,
        });
      } else ids.set(id, i);
      const names = new Map<string, string>();
      const all = [
        ...service.checks.map((c, j) => ({ c, at: ['services', serviceName, 'checks', j] as PathPart[] })),
        ...inst.checks.map((c, j) => ({ c, at: ['services', serviceName, 'instances', i, 'checks', j] as PathPart[] })),
      ];
      for (const { c, at } of all) {
        const name = c.name ?? c.kind;
        if (names.has(name)) {
          problems.push({
            path: [...at, c.name ? 'name' : 'kind'],
            message: `check name "${name}" is used twice for instance "${id}" (give the checks distinct name: fields)`,
          });
        } else names.set(name, formatPath(at));
      }
    });
  }
  config.proxy?.routes.forEach((route, i) => {
    if (!config.services[route.service]) {
      problems.push({ path: ['proxy', 'routes', i, 'service'], message: `no service named "${route.service}" (define it under services:)` });
    }
  });
  problems.push(...alertCrossChecks(config));
  problems.push(...sloCrossChecks(config));
  return problems;
}

/** Whether `from` reaches `to` through depends_on (a cycle if `to` then depends on `from`). */
function dependsOnPath(config: Config, from: string, to: string, seen = new Set<string>()): boolean {
  if (from === to) return true;
  if (seen.has(from)) return false;
  seen.add(from);
  return (config.services[from]?.depends_on ?? []).some((next) => dependsOnPath(config, next, to, seen));
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

/** services.api.checks[1].interval */
export function formatPath(path: readonly PathPart[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p;
  return out;
}

function firstLine(text: string): string {
  return text.split('\n')[0]!;
}

function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  return issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}
