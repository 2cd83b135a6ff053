import type { CheckSpec } from '../core/check.js';
import { UsageError } from '../core/errors.js';
import { parseDuration } from '../config/duration.js';
import { configSchema, httpCheckSchema, tcpCheckSchema, type CheckConfig } from '../config/schema.js';
import { dnsCheckSchema, dnsRecordTypes } from '../config/kinds/dns.js';
import { execCheckSchema } from '../config/kinds/exec.js';
import { grpcCheckSchema } from '../config/kinds/grpc.js';
import { tlsCheckSchema } from '../config/kinds/tls.js';
import { resolveCheck } from '../registry/from-config.js';

/** Options of `healthmesh check`, as commander hands them over. */
export interface CheckCommandOptions {
  timeout: string;
  expectStatus?: string;
  header?: string[];
  method?: string;
  degradedAfter?: string;
  insecure?: boolean;
  /** PEM file of CAs to trust (https, grpcs, tls). */
  cacert?: string;
  /** Client certificate and key files, for targets that require mTLS (https, grpcs). */
  cert?: string;
  key?: string;
  contains?: string;
  warnDays?: string;
  criticalDays?: string;
  watch?: boolean;
}

/**
 * Turn `healthmesh check TARGET` into a resolved check spec, validated by the
 * same schemas as the config file. Throws UsageError naming the bad argument.
 */
export function specFromTarget(target: string, options: CheckCommandOptions, commandArgs: string[] = []): CheckSpec {
  const timeoutMs = parseDuration(options.timeout);
  if (timeoutMs === undefined || timeoutMs <= 0) throw new UsageError(`--timeout: "${options.timeout}" is not a duration (use e.g. 2s, 500ms)`);
  const defaults = configSchema.parse({ services: {} }).defaults;
  if (target === 'exec') {
    if (commandArgs.length === 0) throw new UsageError('exec needs a command: healthmesh check exec -- /path/to/plugin args');
    const check = validated(execCheckSchema, { kind: 'exec', command: commandArgs, inherit_env: true });
    return { ...resolveCheck(check, defaults, 'cli', 'local', '127.0.0.1:0'), timeoutMs, retries: 0 };
  }
  if (commandArgs.length > 0) throw new UsageError(`unexpected arguments after the target: ${commandArgs.join(' ')}`);
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new UsageError(`target "${target}" is not a URL (${TARGET_FORMS})`);
  }
  const check = buildCheckConfig(url, target, options);
  const address = url.port ? `${url.hostname}:${url.port}` : url.hostname;
  const spec = resolveCheck(check, defaults, 'cli', address, address);
  return { ...spec, timeoutMs, retries: 0 };
}

function buildCheckConfig(url: URL, target: string, options: CheckCommandOptions): CheckConfig {
  switch (url.protocol) {
    case 'http:':
    case 'https:': {
      return validated(httpCheckSchema, {
        kind: 'http',
        url: target,
        method: options.method?.toUpperCase(),
        headers: parseHeaders(options.header ?? []),
        expect_status: options.expectStatus ? options.expectStatus.split(',').map(statusArg) : undefined,
        expect_body: options.contains !== undefined ? { contains: options.contains } : undefined,
        degraded_after: options.degradedAfter,
        tls_verify: options.insecure ? false : undefined,
        ca_file: options.cacert,
        client_cert: clientCert(options),
      });
    }
    case 'tcp:': {
      if (!url.port) throw new UsageError(`target "${target}" needs a port (tcp://host:port)`);
      return tcpCheckSchema.parse({ kind: 'tcp', address: `${url.hostname}:${url.port}` });
    }
    case 'grpc:':
    case 'grpcs:': {
      if (!url.port) throw new UsageError(`target "${target}" needs a port (grpc://host:port[/service])`);
      return validated(grpcCheckSchema, {
        kind: 'grpc',
        address: `${url.hostname}:${url.port}`,
        service: decodeURIComponent(url.pathname.replace(/^\//, '')),
        tls: url.protocol === 'grpcs:',
        tls_verify: options.insecure ? false : undefined,
        ca_file: options.cacert,
        client_cert: clientCert(options),
        mode: options.watch ? 'watch' : 'check',
      });
    }
    case 'dns:': {
      const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
      const type = (url.searchParams.get('type') ?? 'A').toUpperCase();
      if (!name) throw new UsageError(`target "${target}" needs a name (dns://server[:port]/name?type=A)`);
      if (!(dnsRecordTypes as readonly string[]).includes(type)) throw new UsageError(`type=${type}: use one of ${dnsRecordTypes.join(', ')}`);
      return validated(dnsCheckSchema, {
        kind: 'dns',
        query: name,
        type,
        server: url.port ? `${url.hostname}:${url.port}` : url.hostname,
        degraded_after: options.degradedAfter,
      });
    }
    case 'tls:':
      return validated(tlsCheckSchema, {
        kind: 'tls',
        address: url.port ? `${url.hostname}:${url.port}` : `${url.hostname}:443`,
        warn_days: options.warnDays !== undefined ? Number(options.warnDays) : undefined,
        critical_days: options.criticalDays !== undefined ? Number(options.criticalDays) : undefined,
        verify: options.insecure ? false : undefined,
        ca_file: options.cacert,
      });
    default:
      throw new UsageError(`unsupported scheme "${url.protocol}" (${TARGET_FORMS})`);
  }
}

const TARGET_FORMS =
  'use http://host:port/path, https://..., tcp://host:port, grpc://host:port[/service], grpcs://..., ' +
  'dns://server[:port]/name?type=A, tls://host:port, or exec -- command args';

/** Parse with a kind's schema; a failure becomes a UsageError naming the option. */
function validated<T>(
  schema: {
    safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> } };
  },
  input: unknown,
): T {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new UsageError(describe(parsed.error.issues));
  return parsed.data;
}

const OPTION_OF: Record<string, string> = {
  expect_status: '--expect-status',
  headers: '--header',
  method: '--method',
  degraded_after: '--degraded-after',
  url: 'target',
  warn_days: '--warn-days',
  critical_days: '--critical-days',
  command: 'command',
  ca_file: '--cacert',
  client_cert: '--cert/--key',
};

/** `--cert` and `--key` go together: one without the other is a usage error. */
function clientCert(options: CheckCommandOptions): { cert_file: string; key_file: string } | undefined {
  if (options.cert === undefined && options.key === undefined) return undefined;
  if (options.cert === undefined || options.key === undefined) {
    throw new UsageError(
      `${options.cert === undefined ? '--key' : '--cert'} needs ${options.cert === undefined ? '--cert' : '--key'} too (a client certificate and its key)`,
    );
  }
  return { cert_file: options.cert, key_file: options.key };
}

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
