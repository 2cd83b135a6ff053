import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { pino } from 'pino';
import { proxySchema, type ProxyConfig } from '../../src/config/balancer.js';
import { realClock, type Clock } from '../../src/core/clock.js';
import { beforeEach } from 'vitest';
import { startProxy, type ProxyEngine, type RunningProxy } from '../../src/proxy/proxy.js';
import type { AttemptOutcome, PickedUpstream, ProxyUpstreams, UpstreamBalancer } from '../../src/balancer/types.js';

/**
 * Helpers of the proxy tests: upstream servers on 127.0.0.1, a round-robin
 * UpstreamBalancer over a fixed list that records every call, a proxy
 * started on port 0, and a client that returns what it saw (or the error).
 */

/** One call to the test balancer. */
export type BalancerCall =
  | { op: 'pick'; id: string | undefined; exclude: string[] }
  | { op: 'report'; id: string; outcome: AttemptOutcome }
  | { op: 'release'; id: string };

/** Round robin over `list`, skipping excluded ids while another is left; records calls. */
export class RoundRobin implements UpstreamBalancer {
  readonly calls: BalancerCall[] = [];
  private next = 0;
  constructor(readonly list: PickedUpstream[]) {}
  pick(_key?: string, exclude?: ReadonlySet<string>): PickedUpstream | undefined {
    let picked: PickedUpstream | undefined;
    for (let i = 0; i < this.list.length; i++) {
      const u = this.list[(this.next + i) % this.list.length]!;
      if (exclude?.has(u.id) !== true) {
        picked = u;
        this.next = (this.next + i + 1) % this.list.length;
        break;
      }
    }
    if (picked === undefined && this.list.length > 0) picked = this.list[this.next++ % this.list.length];
    this.calls.push({ op: 'pick', id: picked?.id, exclude: [...(exclude ?? [])] });
    return picked;
  }
  report(id: string, outcome: AttemptOutcome): void {
    this.calls.push({ op: 'report', id, outcome });
  }
  release(id: string): void {
    this.calls.push({ op: 'release', id });
  }
  /** Checks every pick was followed by exactly one report or release of that id; returns the problems found. */
  unbalanced(): string[] {
    const open = new Map<string, number>();
    const problems: string[] = [];
    for (const c of this.calls) {
      if (c.op === 'pick') {
        if (c.id !== undefined) open.set(c.id, (open.get(c.id) ?? 0) + 1);
      } else {
        const n = open.get(c.id) ?? 0;
        if (n === 0) problems.push(`${c.op} of ${c.id} without a pick`);
        else open.set(c.id, n - 1);
      }
    }
    for (const [id, n] of open) if (n > 0) problems.push(`${n} pick(s) of ${id} never reported or released`);
    return problems;
  }
}

/** Upstreams by service name. */
export function upstreamsOf(map: Record<string, UpstreamBalancer>): ProxyUpstreams {
  return { balancer: (s) => map[s] };
}

/** A node:http server on 127.0.0.1:0; close() destroys every socket. */
export interface Upstream {
  address: string;
  port: number;
  server: Server;
  /** Requests received. */
  requests: IncomingMessage[];
  close(): Promise<void>;
}

export async function startUpstream(handler: RequestListener): Promise<Upstream> {
  const sockets = new Set<Socket>();
  const requests: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    requests.push(req);
    handler(req, res);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    address: `127.0.0.1:${port}`,
    port,
    server,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on (bound, read, closed). */
export async function refusedAddress(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return `127.0.0.1:${port}`;
}

/** A validated proxy config listening on an ephemeral port. */
/** A proxy config on a free port; no drain on close (a test's cleanup would wait for the requests it left hanging), unless the test sets one. */
export function proxyConfig(input: Record<string, unknown>): ProxyConfig {
  return proxySchema.parse({ listen: '127.0.0.1:0', drain_timeout: 0, ...input });
}

export const silentLogger = pino({ level: 'silent' });

/** Both engines: every proxy suite runs once per engine (`describe.each(ENGINES)` with {@link useEngine}). */
export const ENGINES: readonly ProxyEngine[] = ['lean', 'node'];
let currentEngine: ProxyEngine = 'lean';

/** Inside a `describe.each(ENGINES)` block: the proxies its tests start use `engine`. */
export function useEngine(engine: ProxyEngine): void {
  beforeEach(() => {
    currentEngine = engine;
  });
}

/** The engine of the running test (for tests calling startProxy themselves). */
export function engine(): ProxyEngine {
  return currentEngine;
}

/** Start a proxy with test defaults, on the running test's engine. */
export function proxyFor(config: ProxyConfig, upstreams: ProxyUpstreams, clock: Clock = realClock, via?: string): Promise<RunningProxy> {
  return startProxy({ config, upstreams, clock, logger: silentLogger, engine: currentEngine, ...(via ? { via } : {}) });
}

/** What a client saw: a response (status, headers, body) or the error that ended it. */
export interface Seen {
  status?: number;
  headers?: IncomingHttpHeaders;
  rawHeaders?: string[];
  body: string;
  error?: string;
}

/** One request through node:http with a fresh connection (agent: false); never rejects. */
export function fetchVia(
  proxy: RunningProxy,
  path: string,
  opts: { method?: string; headers?: Record<string, string | string[]>; body?: string | Buffer; host?: string } = {},
): Promise<Seen> {
  return new Promise((resolve) => {
    const seen: Seen = { body: '' };
    const req = request(
      {
        host: '127.0.0.1',
        port: proxy.address.port,
        path,
        method: opts.method ?? 'GET',
        headers: { host: opts.host ?? 'svc.test', ...opts.headers },
        agent: false,
      },
      (res) => {
        seen.status = res.statusCode;
        seen.headers = res.headers;
        seen.rawHeaders = res.rawHeaders;
        res.setEncoding('utf8');
        res.on('data', (c: string) => (seen.body += c));
        res.on('end', () => resolve(seen));
        res.on('error', (err) => resolve({ ...seen, error: err.message }));
        res.on('aborted', () => resolve({ ...seen, error: 'aborted' }));
      },
    );
    req.on('error', (err) => resolve({ ...seen, error: (err as NodeJS.ErrnoException).code ?? err.message }));
    req.end(opts.body);
  });
}

/** Resolve once `cond()` holds, polling every 5 ms; reject after `ms`. */
export function waitFor(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (cond()) resolve();
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 5);
    };
    tick();
  });
}

/** A raw client connection to 127.0.0.1:port recording what it receives (latin1) and whether it closed. */
export interface RawClient {
  sock: Socket;
  data(): string;
  closed(): boolean;
}

/** Open a {@link RawClient}; `cleanups` gets its destroy. */
export function rawClient(port: number, cleanups: (() => unknown)[]): RawClient {
  const sock = connect(port, '127.0.0.1');
  let data = '';
  let closed = false;
  sock.setEncoding('latin1');
  sock.on('data', (d: string) => (data += d));
  sock.on('error', () => {});
  sock.on('close', () => (closed = true));
  cleanups.push(() => void sock.destroy());
  return { sock, data: () => data, closed: () => closed };
}
