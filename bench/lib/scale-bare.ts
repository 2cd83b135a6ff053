/**
 * The bare loop of bench/daemon-scale: the same probes as the daemon's
 * checks (same targets, mix, rate and connection policy) with no healthmesh
 * code, paced by one 10 ms interval timer. HTTP without reuse is
 * net.connect + one hand-written request with `Connection: close`; with
 * reuse, one undici Client per target and dispatch() with a small handler
 * (the daemon's own path); TCP is net.connect, destroyed on connect.
 * On SIGUSR2 it prints its counts as one JSON line.
 *
 *   node dist/bench/lib/scale-bare.js '{"n":1000,"intervalMs":1000,"port":8080,"reuseHttp":true,"seconds":30}'
 */
import { connect } from 'node:net';
import { Client, type Dispatcher } from 'undici';
import { addressOf, isHttp } from './scale-targets.js';

export interface BareParams {
  n: number;
  intervalMs: number;
  port: number;
  reuseHttp: boolean;
  seconds: number;
}

export async function runBare(p: BareParams): Promise<void> {
  const counts = { ok: 0, bad: 0 };
  const clients: Array<Client | null> = new Array(p.n).fill(null);
  const requests = new Map<number, Buffer>();
  process.on('SIGUSR2', () => process.stdout.write(`${JSON.stringify(counts)}\n`));
  process.stdout.write('ready\n');

  const done = (ok: boolean): void => {
    if (ok) counts.ok++;
    else counts.bad++;
  };

  function probeTcp(i: number): void {
    const s = connect(p.port, addressOf(i));
    s.once('connect', () => {
      s.destroy();
      done(true);
    });
    s.once('error', () => done(false));
  }

  function probeHttpNew(i: number): void {
    const host = addressOf(i);
    let req = requests.get(i);
    if (req === undefined) {
      req = Buffer.from(`GET / HTTP/1.1\r\nhost: ${host}:${p.port}\r\nuser-agent: bare\r\nconnection: close\r\n\r\n`);
      requests.set(i, req);
    }
    const s = connect(p.port, host);
    let first: Buffer | null = null;
    s.once('connect', () => s.write(req));
    s.on('data', (b: Buffer) => {
      if (first === null) first = b;
    });
    s.once('end', () => {
      s.destroy();
      done(first !== null && first.toString('latin1', 9, 12) === '200');
    });
    s.once('error', () => done(false));
  }

  const opts: Dispatcher.DispatchOptions = { path: '/', method: 'GET', headers: ['user-agent', 'bare'] };
  function probeHttpReused(i: number): void {
    let c = clients[i];
    if (c === null || c === undefined) {
      c = new Client(`http://${addressOf(i)}:${p.port}`, { pipelining: 1 });
      clients[i] = c;
    }
    let status = 0;
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart() {},
      onResponseStart(_c, code) {
        status = code;
      },
      onResponseData() {},
      onResponseEnd() {
        done(status === 200);
      },
      onResponseError() {
        done(false);
      },
    };
    c.dispatch(opts, handler);
  }

  const t0 = performance.now();
  let started = 0;
  const timer = setInterval(() => {
    // Start every probe due by now: check i is due at i × interval / n in each interval.
    const due = Math.floor(((performance.now() - t0) * p.n) / p.intervalMs);
    for (; started < due; started++) {
      const i = started % p.n;
      if (!isHttp(i)) probeTcp(i);
      else if (p.reuseHttp) probeHttpReused(i);
      else probeHttpNew(i);
    }
  }, 10);
  // Bounded: warm-up (at most 2 intervals) plus the window plus slack.
  await new Promise((r) => setTimeout(r, 2 * p.intervalMs + p.seconds * 1000 + 30_000));
  clearInterval(timer);
  await Promise.allSettled(clients.map((c) => c?.destroy()));
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '/'))) {
  await runBare(JSON.parse(process.argv[2] ?? '{}') as BareParams);
  process.exit(0);
}
