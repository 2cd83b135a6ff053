import type { CheckSpec } from '../core/check.js';
import { UsageError } from '../core/errors.js';
import { parseDuration } from '../config/duration.js';
import { configSchema, httpCheckSchema, tcpCheckSchema, type CheckConfig } from '../config/schema.js';
import { resolveCheck } from '../registry/from-config.js';

/** Options of `healthmesh check`, as commander hands them over. */
export interface CheckCommandOptions {
  timeout: string;
  expectStatus?: string;
  header?: string[];
  method?: string;
  degradedAfter?: string;
  insecure?: boolean;
  contains?: string;
}

/**
 * Turn `healthmesh check TARGET` into a resolved check spec, validated by the
 * same schemas as the config file. Throws UsageError naming the bad argument.
 */
export function specFromTarget(target: string, options: CheckCommandOptions): CheckSpec {
  const timeoutMs = parseDuration(options.timeout);
  if (timeoutMs === undefined || timeoutMs <= 0) throw new UsageError(`--timeout: "${options.timeout}" is not a duration (use e.g. 2s, 500ms)`);
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new UsageError(`target "${target}" is not a URL (use http://host:port/path, https://..., tcp://host:port)`);
  }
  const check = buildCheckConfig(url, target, options);
  const defaults = configSchema.parse({ services: {} }).defaults;
  const address = url.port ? `${url.hostname}:${url.port}` : url.hostname;
  const spec = resolveCheck(check, defaults, 'cli', address, address);
  return { ...spec, timeoutMs, retries: 0 };
}

function buildCheckConfig(url: URL, target: string, options: CheckCommandOptions): CheckConfig {
  switch (url.protocol) {
    case 'http:':
    case 'https:': {
      const parsed = httpCheckSchema.safeParse({
        kind: 'http',
        url: target,
        method: options.method?.toUpperCase(),
        headers: parseHeaders(options.header ?? []),
        expect_status: options.expectStatus ? options.expectStatus.split(',').map(statusArg) : undefined,
        expect_body: options.contains !== undefined ? { contains: options.contains } : undefined,
        degraded_after: options.degradedAfter,
        tls_verify: options.insecure ? false : undefined,
      });
      if (!parsed.success) throw new UsageError(describe(parsed.error.issues));
      return parsed.data;
    }
    case 'tcp:': {
      if (!url.port) throw new UsageError(`target "${target}" needs a port (tcp://host:port)`);
      return tcpCheckSchema.parse({ kind: 'tcp', address: `${url.hostname}:${url.port}` });
    }
    default:
      throw new UsageError(`unsupported scheme "${url.protocol}" (use http://, https:// or tcp://)`);
  }
}

const OPTION_OF: Record<string, string> = {
  expect_status: '--expect-status',
  headers: '--header',
  method: '--method',
  degraded_after: '--degraded-after',
  url: 'target',
};

function describe(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): string {
  return issues
    .map((i) => {
      const field = String(i.path[0] ?? '');
      return `${OPTION_OF[field] ?? field}${i.path.length > 1 ? `[${String(i.path[1])}]` : ''}: ${i.message}`;
    })
    .join('; ');
}

function statusArg(text: string): string | number {
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) : t;
}

function parseHeaders(list: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const item of list) {
    const at = item.indexOf(':');
    if (at <= 0) throw new UsageError(`--header: "${item}" is not "Name: value"`);
    headers[item.slice(0, at).trim().toLowerCase()] = item.slice(at + 1).trim();
  }
  return headers;
}
