import { promises as dnsPromises } from 'node:dns';
import { isIP } from 'node:net';
import type { CheckFactory, CheckRunner, CheckSpec, RunContext } from '../core/check.js';
import type { Clock } from '../core/clock.js';
import { outcome, type ProbeOutcome, type Reason } from '../core/result.js';
import type { DnsCheckConfig, DnsRecordType } from '../config/kinds/dns.js';
import { describeError, reasonFromError } from './errors.js';
import { formatHostPort, formatMs, parseHostPort } from './probe-support.js';

/**
 * DNS check: one query of one record type, sent to one server with c-ares
 * (node:dns Resolver), judged on the response code and the answers.
 *
 * Each check owns one Resolver, made in the factory with the server set and
 * `tries: 1` (the scheduler does the retrying), so an abort can cancel the
 * check's own query without touching other checks' queries. A run allocates
 * one probe, which is also the listener of the run's AbortSignal.
 *
 * Answers are compared in a per-type "key" form (see `expect.contains` in
 * the schema): A/AAAA the address, CNAME/NS the name, MX the exchange, SRV
 * `target:port`, TXT the record's strings joined. Names are lowercased and
 * lose their trailing dot.
 */

type Resolver = dnsPromises.Resolver;
const { Resolver: ResolverClass } = dnsPromises;

/** The port a DNS server listens on when the address names none. */
export const DNS_PORT = 53;
/** How long a server given by host name stays resolved to one address (ms). */
const SERVER_LOOKUP_TTL_MS = 60_000;
/** Answers shown in a result's output line; the rest are counted. */
const SHOWN_ANSWERS = 5;

/** One answer: `key` is what expect.contains matches, `text` what the output shows. */
interface Answer {
  key: string;
  text: string;
}

type Query = (resolver: Resolver, name: string) => Promise<Answer[]>;

function normName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

function same(s: string): Answer {
  return { key: s, text: s };
}

function nameAnswer(s: string): Answer {
  const key = normName(s);
  return { key, text: key };
}

/** One query function per type, converting c-ares records to answers. */
const QUERIES: Readonly<Record<DnsRecordType, Query>> = {
  A: (r, n) => r.resolve4(n).then((a) => a.map(same)),
  AAAA: (r, n) => r.resolve6(n).then((a) => a.map(same)),
  CNAME: (r, n) => r.resolveCname(n).then((a) => a.map(nameAnswer)),
  NS: (r, n) => r.resolveNs(n).then((a) => a.map(nameAnswer)),
  MX: (r, n) =>
    r.resolveMx(n).then((a) =>
      a.map((mx) => {
        const key = normName(mx.exchange);
        return { key, text: `${mx.priority} ${key}` };
      }),
    ),
  SRV: (r, n) =>
    r.resolveSrv(n).then((a) =>
      a.map((srv) => {
        const key = `${normName(srv.name)}:${srv.port}`;
        return { key, text: `${srv.priority} ${srv.weight} ${key}` };
      }),
    ),
  TXT: (r, n) =>
    r.resolveTxt(n).then((a) =>
      a.map((chunks) => {
        const key = chunks.join('');
        return { key, text: quote(key) };
      }),
    ),
};

/** An expected answer in the key form of `type` (names normalised, IPv6 canonical). */
function expectedKey(type: DnsRecordType, value: string): string {
  switch (type) {
    case 'A':
    case 'TXT':
      return value;
    case 'AAAA':
      return canonicalIPv6(value);
    case 'SRV': {
      const colon = value.lastIndexOf(':');
      if (colon < 0) throw new Error(`SRV expectation ${JSON.stringify(value)} is not "target:port"`);
      return `${normName(value.slice(0, colon))}:${value.slice(colon + 1)}`;
    }
    default:
      return normName(value);
  }
}

/** The compressed lowercase form c-ares prints (`::1`, `2001:db8::1`), or the input when not IPv6. */
function canonicalIPv6(value: string): string {
  if (isIP(value) !== 6) return value;
  try {
    return new URL(`http://[${value}]/`).hostname.slice(1, -1);
  } catch {
    return value;
  }
}

/** Where queries go: `host` is an IP literal, or a name looked up before use. */
interface ServerTarget {
  host: string;
  port: number;
  /** host:port as written in output. */
  text: string;
  /** True when host is an IP literal (the server is set once in the factory). */
  literal: boolean;
}

/** Parses `host:port`, `[v6]:port` or `host` (port 53). Throws on a bad address. */
function parseServer(address: string): ServerTarget {
  const { host, port: given } = parseHostPort(address);
  const port = given ?? DNS_PORT;
  return { host, port, text: formatHostPort(host, port), literal: isIP(host) !== 0 };
}

interface Expectations {
  contains: { key: string; as: string }[];
  countMin: number | undefined;
  countMax: number | undefined;
}

interface DnsPlan {
  query: Query;
  name: string;
  type: DnsRecordType;
  server: ServerTarget;
  expect: Expectations | null;
  degradedAfterMs: number | undefined;
}

/**
 * Builds a DNS runner (throws for a config it cannot run); its Resolver is
 * made here and lives as long as the runner.
 */
export const dnsCheck: CheckFactory<DnsCheckConfig> = (spec) => new DnsCheckRunner(compilePlan(spec), spec.timeoutMs);

function compilePlan(spec: CheckSpec<DnsCheckConfig>): DnsPlan {
  const c = spec.config;
  const e = c.expect;
  let expect: Expectations | null = null;
  if (e !== undefined && (e.contains !== undefined || e.count_min !== undefined || e.count_max !== undefined)) {
    expect = {
      contains: (e.contains ?? []).map((as) => ({ key: expectedKey(c.type, as), as })),
      countMin: e.count_min,
      countMax: e.count_max,
    };
  }
  return {
    query: QUERIES[c.type],
    name: c.query,
    type: c.type,
    server: parseServer(c.server ?? spec.address),
    expect,
    degradedAfterMs: c.degraded_after,
  };
}

/** A resolver making one try per query, given up after timeoutMs; the caller sets its one server. */
function createResolver(timeoutMs: number): Resolver {
  // c-ares takes an int of ms; tries: 1 because retries are the scheduler's business.
  return new ResolverClass({ timeout: Math.max(1, Math.ceil(timeoutMs)), tries: 1 });
}

class DnsCheckRunner implements CheckRunner {
  readonly resolver: Resolver;
  /** Probes started and not yet settled (cancel() would end all of them). */
  inflight = 0;
  private serverIp: string | null = null;
  private serverIpAt = 0;

  constructor(
    readonly plan: DnsPlan,
    timeoutMs: number,
  ) {
    this.resolver = createResolver(timeoutMs);
    const server = plan.server;
    if (server.literal) this.resolver.setServers([formatHostPort(server.host, server.port)]);
  }

  run(ctx: RunContext): Promise<ProbeOutcome> {
    if (ctx.signal.aborted) return Promise.resolve(outcome.unhealthy('timeout', 'aborted before start'));
    return new Promise<ProbeOutcome>((resolve) => {
      new DnsProbe(this, ctx.clock, ctx.signal, resolve).start();
    });
  }

  /**
   * True when the resolver points at the server's current address. A server
   * given by name is looked up (system resolver) at most once a minute.
   */
  serverReady(now: number): boolean {
    return this.plan.server.literal || (this.serverIp !== null && now - this.serverIpAt < SERVER_LOOKUP_TTL_MS);
  }

  async lookupServer(now: number): Promise<void> {
    const server = this.plan.server;
    const { address } = await dnsPromises.lookup(server.host);
    if (address !== this.serverIp) this.resolver.setServers([formatHostPort(address, server.port)]);
    this.serverIp = address;
    this.serverIpAt = now;
  }

  close(): void {
    this.resolver.cancel();
  }
}

const PHASE_LOOKUP = 'looking up the server';
const PHASE_QUERY = 'waiting for the answer';

/** One run; also the listener of the run's AbortSignal. Settles once via finish(). */
class DnsProbe {
  private done = false;
  private readonly t0: number;
  private phase = PHASE_QUERY;

  constructor(
    private readonly runner: DnsCheckRunner,
    private readonly clock: Clock,
    private readonly signal: AbortSignal,
    private readonly resolve: (o: ProbeOutcome) => void,
  ) {
    this.t0 = clock.now();
  }

  start(): void {
    this.signal.addEventListener('abort', this);
    this.runner.inflight++;
    const runner = this.runner;
    if (runner.serverReady(this.t0)) {
      this.query();
      return;
    }
    this.phase = PHASE_LOOKUP;
    runner.lookupServer(this.t0).then(
      () => {
        if (this.done) return;
        this.phase = PHASE_QUERY;
        this.query();
      },
      (err: unknown) => {
        if (this.done) return;
        const server = runner.plan.server;
        this.finish(outcome.unhealthy('dns', `cannot look up server ${server.host}: ${describeError(err)}`));
      },
    );
  }

  private query(): void {
    const plan = this.runner.plan;
    let pending: Promise<Answer[]>;
    try {
      pending = plan.query(this.runner.resolver, plan.name);
    } catch (err) {
      // Bad names throw synchronously in some Node versions.
      this.failed(err);
      return;
    }
    pending.then(
      (answers) => this.answered(answers),
      (err: unknown) => this.failed(err),
    );
  }

  /** AbortSignal listener: the attempt timed out. */
  handleEvent(): void {
    if (this.done) return;
    const runner = this.runner;
    const elapsed = this.clock.now() - this.t0;
    const plan = runner.plan;
    // cancel() ends every query of the resolver: only do it when this probe's is the only one.
    const alone = runner.inflight === 1;
    this.finish(outcome.unhealthy('timeout', `timed out after ${formatMs(elapsed)} ${this.phase} (${plan.type} ${plan.name} @ ${plan.server.text})`));
    if (alone) runner.resolver.cancel();
  }

  private answered(answers: Answer[]): void {
    if (this.done) return;
    const plan = this.runner.plan;
    const metrics = { answers: answers.length };
    const list = formatAnswers(answers);
    const problem = plan.expect !== null ? checkAnswers(plan.expect, answers) : null;
    if (problem !== null) {
      this.finish(outcome.unhealthy('answer_mismatch', `${problem}; got ${plural(answers.length, plan.type)}: ${list}`, metrics));
      return;
    }
    const latency = this.clock.now() - this.t0;
    const head = `${plural(answers.length, plan.type)} for ${plan.name}`;
    const after = plan.degradedAfterMs;
    if (after !== undefined && latency > after) {
      this.finish(outcome.degraded('slow', `${head} in ${formatMs(latency)}, over degraded_after ${formatMs(after)}: ${list}`, metrics));
    } else {
      this.finish(outcome.healthy(`${head} in ${formatMs(latency)}: ${list}`, metrics));
    }
  }

  private failed(err: unknown): void {
    if (this.done) return;
    const plan = this.runner.plan;
    const code = errorCode(err);
    // A cancel that was not this run's abort: close() ended the check under it.
    const reason = code === 'ECANCELLED' && !this.signal.aborted ? 'aborted' : dnsReasonFromError(err);
    const where = `${plan.type} ${plan.name} @ ${plan.server.text}`;
    let text: string;
    if (code === 'ENODATA') text = `no ${plan.type} records for ${plan.name} (the name exists) @ ${plan.server.text}`;
    else if (code === 'ENOTFOUND') text = `NXDOMAIN: ${plan.name} does not exist @ ${plan.server.text}`;
    else if (code === 'ESERVFAIL') text = `SERVFAIL for ${where}`;
    else if (code === 'EREFUSED') text = `REFUSED for ${where}`;
    else if (reason === 'aborted') text = `check closed while ${this.phase} (${where})`;
    else if (code === 'ETIMEOUT') text = `no answer in ${formatMs(this.clock.now() - this.t0)} for ${where}`;
    else text = `${describeError(err)} (${where})`;
    const metrics = code === 'ENODATA' ? { answers: 0 } : undefined;
    this.finish(outcome.unhealthy(reason, text, metrics));
  }

  private finish(result: ProbeOutcome): void {
    this.done = true;
    this.runner.inflight--;
    this.signal.removeEventListener('abort', this);
    this.resolve(result);
  }
}

/** Null when every expectation holds, else one phrase saying which failed. */
function checkAnswers(e: Expectations, answers: Answer[]): string | null {
  const n = answers.length;
  if (e.countMin !== undefined && n < e.countMin) return `expected at least ${e.countMin} answers`;
  if (e.countMax !== undefined && n > e.countMax) return `expected at most ${e.countMax} answers`;
  let missing: string[] | null = null;
  for (const want of e.contains) {
    let found = false;
    for (const a of answers) {
      if (a.key === want.key) {
        found = true;
        break;
      }
    }
    if (!found) {
      missing ??= [];
      missing.push(quote(want.as));
    }
  }
  return missing === null ? null : `missing ${missing.join(', ')}`;
}

/** DNS error codes (node:dns / c-ares) to reasons; others go through the shared network mapping. */
const DNS_REASONS: Readonly<Record<string, Reason>> = {
  ENOTFOUND: 'nxdomain',
  ESERVFAIL: 'servfail',
  EREFUSED: 'dns_refused',
  ETIMEOUT: 'timeout',
  ECANCELLED: 'timeout',
  ENODATA: 'answer_mismatch',
  EFORMERR: 'protocol',
  EBADRESP: 'protocol',
  ENOTIMP: 'protocol',
  EBADQUERY: 'error',
  EBADNAME: 'error',
  EBADFAMILY: 'error',
  ECONNREFUSED: 'connect_refused',
  EDESTRUCTION: 'aborted',
};

/**
 * The Reason of an error from a node:dns Resolver query: `nxdomain`,
 * `servfail`, `dns_refused`, `timeout` (ETIMEOUT, ECANCELLED),
 * `answer_mismatch` (ENODATA), `protocol`, `connect_refused` or `error`.
 */
export function dnsReasonFromError(err: unknown): Reason {
  const code = errorCode(err);
  if (code !== undefined) {
    const r = DNS_REASONS[code];
    if (r !== undefined) return r;
  }
  return reasonFromError(err);
}

function errorCode(err: unknown): string | undefined {
  if (err === null || typeof err !== 'object') return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** One SRV record as a discovery source uses it. */
export interface SrvTarget {
  /** Host name of the target, lowercase, without trailing dot. */
  target: string;
  port: number;
  priority: number;
  weight: number;
}

/**
 * Looks up the SRV records of `name` at `server` (host:port, [v6]:port or
 * host, port 53) for discovery: one query, no retries, ended by `signal`.
 * Records come in the server's order. Rejects with the resolver's error
 * (code ENOTFOUND, ESERVFAIL, EREFUSED, ENODATA, ETIMEOUT, or ECANCELLED when
 * the signal aborted during the query; `dnsReasonFromError` maps it to a
 * Reason), or with the signal's reason when it was aborted before.
 *
 * @param timeoutMs limit of the query in ms (default 5000)
 */
export async function resolveSrv(server: string, name: string, signal?: AbortSignal, timeoutMs = 5000): Promise<SrvTarget[]> {
  signal?.throwIfAborted();
  const target = parseServer(server);
  const resolver = createResolver(timeoutMs);
  const onAbort = (): void => resolver.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    let ip = target.host;
    if (!target.literal) ip = (await dnsPromises.lookup(target.host)).address;
    signal?.throwIfAborted();
    resolver.setServers([formatHostPort(ip, target.port)]);
    const records = await resolver.resolveSrv(name);
    return records.map((r) => ({ target: normName(r.name), port: r.port, priority: r.priority, weight: r.weight }));
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** `3 A answers: 10.0.0.1, 10.0.0.2, 10.0.0.3`; more than SHOWN_ANSWERS are counted, not listed. */
function formatAnswers(answers: Answer[]): string {
  if (answers.length === 0) return '(none)';
  const shown = answers.length <= SHOWN_ANSWERS ? answers : answers.slice(0, SHOWN_ANSWERS);
  let text = shown.map((a) => clip(a.text, 80)).join(', ');
  if (shown.length < answers.length) text += `, … +${answers.length - shown.length} more`;
  return text;
}

function plural(n: number, type: DnsRecordType): string {
  return `${n} ${type} ${n === 1 ? 'answer' : 'answers'}`;
}

function quote(s: string): string {
  return JSON.stringify(clip(s));
}

function clip(s: string, max = 60): string {
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}
