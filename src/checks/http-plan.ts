import type { buildConnector, Client, Dispatcher } from 'undici';
import type { CheckSpec } from '../core/check.js';
import type { HttpCheckConfig } from '../config/schema.js';
import { compileHttp1Target, validateHeader, type Http1Target } from '../http1/index.js';
import { compileJsonPath, type JsonPath } from './jsonpath.js';
import { armDelayMs } from './probe-support.js';
import { loadClientCert, readPemFile } from './tls-files.js';

/**
 * The HTTP check's plan: everything a run needs that does not depend on the
 * response, computed once from the spec (see http.ts for why).
 */

const USER_AGENT = 'healthmesh/0.1';

/**
 * `reuse_connections: auto` keeps a check's connection only when its interval
 * is shorter than this (ms). It is undici's own idle timeout (keepAliveTimeout,
 * 4 s), and under the 5 s after which Node's and Apache's servers close an
 * idle connection: a check run less often would find its kept connection
 * closed and connect anew anyway, through a per-check client that costs
 * memory and CPU for nothing. bench/daemon-scale at 10 000 checks × 10 s:
 * README, Sizing.
 */
export const KEEP_ALIVE_WINDOW_MS = 4_000;

export interface JsonCondition {
  path: string;
  steps: JsonPath;
  equals: string | number | boolean | null;
}

export interface BodyConditions {
  contains: string | undefined;
  notContains: string | undefined;
  regex: RegExp | undefined;
  json: JsonCondition[];
}

/** Everything one check needs per run, computed once from its spec. */
export interface HttpPlan {
  url: URL;
  origin: string;
  /** Socket options for undici's connector (TLS verification, SNI, CA and client certificate, connect timeout). */
  connectOptions: buildConnector.BuildOptions;
  /** Client options without `connect`: each runner adds its own tracking connector. */
  clientOptions: Client.Options;
  request: Dispatcher.DispatchOptions;
  headers: string[];
  method: Dispatcher.HttpMethod;
  body: Buffer | null;
  reuse: boolean;
  /** Whether a client certificate (client_cert) goes with every TLS connection. */
  sendsClientCert: boolean;
  /** statusOk[code] === 1 when the code is accepted. */
  statusOk: Uint8Array;
  expectText: string;
  conditions: BodyConditions | null;
  maxBodyBytes: number;
  degradedAfterMs: number | undefined;
  followRedirects: number;
  /** When a still-running probe starts listening to ctx.signal (ms after its start). */
  armDelayMs: number;
  /** Set when the lean HTTP/1.1 client serves this check (see the top of this file). */
  lean: Http1Target | null;
}

/** Whether the check keeps its connection between runs (`reuse_connections`, auto by interval). */
export function keepsConnection(spec: CheckSpec<HttpCheckConfig>): boolean {
  const reuse = spec.config.reuse_connections;
  return reuse === 'auto' ? spec.intervalMs < KEEP_ALIVE_WINDOW_MS : reuse;
}

/** Compiles a spec into its plan; throws for a config it cannot run (bad URL, regex, JSON path or TLS file). */
export function compilePlan(spec: CheckSpec<HttpCheckConfig>): HttpPlan {
  const c = spec.config;
  const url = new URL(c.url ?? `${c.scheme}://${spec.address}${c.path}`);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`unsupported scheme ${url.protocol} (use http or https)`);
  }
  const timeoutMs = spec.timeoutMs;

  const headers: string[] = [];
  let hasUserAgent = false;
  let hasAuthorization = false;
  for (const [name, value] of Object.entries(c.headers)) {
    const lower = name.toLowerCase();
    if (lower === 'user-agent') hasUserAgent = true;
    if (lower === 'authorization') hasAuthorization = true;
    // Here, not at each run: a header that cannot go on the wire makes the check invalid.
    validateHeader(name, value);
    headers.push(name, value);
  }
  if (!hasUserAgent) headers.push('user-agent', USER_AGENT);
  if (!hasAuthorization && (url.username !== '' || url.password !== '')) {
    const user = decodeURIComponent(url.username);
    const pass = decodeURIComponent(url.password);
    headers.push('authorization', `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`);
  }

  const body = c.body !== undefined && c.body !== '' ? Buffer.from(c.body) : null;
  const reuse = keepsConnection(spec);
  const path = url.pathname + url.search;

  const connect: buildConnector.BuildOptions = { rejectUnauthorized: c.tls_verify, timeout: timeoutMs };
  if (c.tls_server_name !== undefined) connect.servername = c.tls_server_name;
  // Read here, once: a run never touches the disk (see tls-files.ts).
  if (c.ca_file !== undefined) connect.ca = readPemFile(c.ca_file, 'ca_file');
  if (c.client_cert !== undefined) {
    const pair = loadClientCert(c.client_cert);
    connect.cert = pair.cert;
    connect.key = pair.key;
  }

  return {
    url,
    origin: url.origin,
    connectOptions: connect,
    clientOptions: {
      // Backstops only: the AbortSignal ends a run at its timeout.
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      pipelining: 1,
    },
    // Reused for every run: undici reads these options and does not keep or change them.
    request: requestOptions(path, c.method, headers, body, reuse),
    headers,
    method: c.method,
    body,
    reuse,
    sendsClientCert: c.client_cert !== undefined,
    statusOk: sharedStatusTable(c.expect_status),
    expectText: c.expect_status.join(', '),
    conditions: compileConditions(c.expect_body),
    maxBodyBytes: c.max_body_bytes,
    degradedAfterMs: c.degraded_after,
    followRedirects: c.follow_redirects,
    armDelayMs: armDelayMs(timeoutMs),
    // Redirects stay on undici: a hop may change origin or scheme, and they are rare in health checks.
    lean: !reuse && url.protocol === 'http:' && c.follow_redirects === 0 ? compileHttp1Target(url, c.method, headers, body) : null,
  };
}

/** undici's options for one request; `reset` when the connection is not kept. */
export function requestOptions(
  path: string,
  method: Dispatcher.HttpMethod,
  headers: string[],
  body: Buffer | null,
  reuse: boolean,
): Dispatcher.DispatchOptions {
  const opts: Dispatcher.DispatchOptions = { path, method, headers, body };
  // reset: undici sends `connection: close` and drops the socket after the response.
  if (!reuse) opts.reset = true;
  return opts;
}

/**
 * Status tables by their matchers: checks with the same expect_status (nearly
 * all of them: the default 2xx) share one table instead of 600 bytes each
 * (bench/daemon-scale heap snapshot at 10 000 checks). Never written after
 * compiling. Bounded: past the cap a table is compiled for its check alone.
 */
const statusTables = new Map<string, Uint8Array>();
const MAX_SHARED_STATUS_TABLES = 1000;

function sharedStatusTable(matchers: readonly (number | string)[]): Uint8Array {
  const key = matchers.join(',');
  let table = statusTables.get(key);
  if (table === undefined) {
    table = compileStatusTable(matchers);
    if (statusTables.size < MAX_SHARED_STATUS_TABLES) statusTables.set(key, table);
  }
  return table;
}

/** A 600-entry table: table[status] is 1 for accepted codes. */
export function compileStatusTable(matchers: readonly (number | string)[]): Uint8Array {
  const table = new Uint8Array(600);
  for (const m of matchers) {
    let lo: number;
    let hi: number;
    if (typeof m === 'number') {
      lo = hi = m;
    } else if (/^[1-5]xx$/.test(m)) {
      lo = Number(m[0]) * 100;
      hi = lo + 99;
    } else {
      const dash = m.indexOf('-');
      lo = Number(dash < 0 ? m : m.slice(0, dash));
      hi = dash < 0 ? lo : Number(m.slice(dash + 1));
    }
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo > hi) {
      throw new Error(`bad expect_status ${JSON.stringify(m)}`);
    }
    for (let s = Math.max(lo, 0); s <= Math.min(hi, 599); s++) table[s] = 1;
  }
  return table;
}

function compileConditions(eb: HttpCheckConfig['expect_body']): BodyConditions | null {
  if (!eb) return null;
  const json = (eb.json ?? []).map((j) => ({ path: j.path, steps: compileJsonPath(j.path), equals: j.equals }));
  const conditions: BodyConditions = {
    contains: eb.contains,
    notContains: eb.not_contains,
    regex: eb.regex !== undefined ? new RegExp(eb.regex) : undefined,
    json,
  };
  const any = conditions.contains !== undefined || conditions.notContains !== undefined || conditions.regex !== undefined || json.length > 0;
  return any ? conditions : null;
}
