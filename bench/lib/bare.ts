/**
 * Probe loops with no healthmesh code: the floor of this runtime for the
 * same requests. Each keeps `concurrency` probes in flight until stopped.
 *
 *   request  undici Client.request() + body.dump(), one keep-alive Client per
 *            worker (reset: true → `connection: close`, new connection each time)
 *   dispatch undici Client.dispatch() with one reused handler object per
 *            worker (the lowest-level undici API, no stream, no promise)
 *   raw-net  net.connect + a hand-written HTTP/1.1 request with
 *            `Connection: close`, status line checked, wait for close
 *   connect  net.connect, destroy on 'connect' (TCP probe)
 */
import { connect, type Socket } from 'node:net';
import { Client, type Dispatcher } from 'undici';
import { sleep } from './proc.js';

/** A running probe loop: counters the bench samples, and stop(). */
export interface Load {
  ok: number;
  bad: number;
  lastError: string;
  stop(): Promise<void>;
}

function newLoad(): Load {
  return { ok: 0, bad: 0, lastError: '', stop: () => Promise.resolve() };
}

function errText(err: unknown): string {
  if (err instanceof Error) return `${(err as NodeJS.ErrnoException).code ?? err.name}: ${err.message}`;
  return String(err);
}

/** Wait until `inFlight()` is 0, at most `ms`. */
async function drain(inFlight: () => number, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (inFlight() > 0 && Date.now() < deadline) await sleep(10);
}

/** undici Client.request loop; `reset` makes every request use a new connection. */
export function bareHttpRequest(origin: string, concurrency: number, reset: boolean): Load {
  const load = newLoad();
  let running = true;
  const clients = Array.from({ length: concurrency }, () => new Client(origin, { pipelining: 1 }));
  const opts: Dispatcher.RequestOptions = { path: '/', method: 'GET', reset };
  const workers = clients.map(async (client) => {
    while (running) {
      try {
        const res = await client.request(opts);
        await res.body.dump();
        if (res.statusCode === 200) load.ok++;
        else {
          load.bad++;
          load.lastError = `HTTP ${res.statusCode}`;
        }
      } catch (err) {
        load.bad++;
        load.lastError = errText(err);
        await sleep(1);
      }
    }
  });
  load.stop = async () => {
    running = false;
    await Promise.race([Promise.allSettled(workers), sleep(3000)]);
    await Promise.allSettled(clients.map((c) => c.destroy()));
  };
  return load;
}

/** One worker of the dispatch loop: the handler object is reused for every request. */
class DispatchWorker implements Dispatcher.DispatchHandler {
  private status = 0;
  busy = false;
  private readonly nextRun = (): void => this.run();

  constructor(
    private readonly client: Client,
    private readonly opts: Dispatcher.DispatchOptions,
    private readonly load: Load,
    private readonly running: () => boolean,
  ) {}

  run(): void {
    if (!this.running()) {
      this.busy = false;
      return;
    }
    this.busy = true;
    this.status = 0;
    this.client.dispatch(this.opts, this);
  }

  onRequestStart(): void {}
  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number): void {
    this.status = statusCode;
  }
  onResponseData(): void {}
  onResponseEnd(): void {
    if (this.status === 200) this.load.ok++;
    else {
      this.load.bad++;
      this.load.lastError = `HTTP ${this.status}`;
    }
    queueMicrotask(this.nextRun);
  }
  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    this.load.bad++;
    this.load.lastError = errText(err);
    setTimeout(this.nextRun, 1);
  }
}

/** undici Client.dispatch loop with a minimal handler. */
export function bareHttpDispatch(origin: string, concurrency: number, reset: boolean): Load {
  const load = newLoad();
  let running = true;
  const isRunning = (): boolean => running;
  const opts: Dispatcher.DispatchOptions = { path: '/', method: 'GET', headers: [] };
  if (reset) opts.reset = true;
  const clients = Array.from({ length: concurrency }, () => new Client(origin, { pipelining: 1 }));
  const workers = clients.map((c) => new DispatchWorker(c, opts, load, isRunning));
  for (const w of workers) w.run();
  load.stop = async () => {
    running = false;
    await drain(() => workers.filter((w) => w.busy).length);
    await Promise.allSettled(clients.map((c) => c.destroy()));
  };
  return load;
}

/** net.connect + raw `GET / HTTP/1.1` with `Connection: close`; one new connection per probe. */
export function bareHttpRawNet(host: string, port: number, concurrency: number): Load {
  const load = newLoad();
  let running = true;
  let inFlight = 0;
  const request = Buffer.from(`GET / HTTP/1.1\r\nHost: ${host}:${port}\r\nConnection: close\r\n\r\n`, 'latin1');
  const one = (): void => {
    inFlight++;
    let status = '';
    let failed: string | null = null;
    const s: Socket = connect({ host, port });
    s.on('connect', () => s.write(request));
    s.on('data', (chunk: Buffer) => {
      if (status === '') status = chunk.toString('latin1', 0, 12);
    });
    s.on('error', (err) => {
      failed = errText(err);
    });
    s.on('close', () => {
      inFlight--;
      if (failed === null && status === 'HTTP/1.1 200') load.ok++;
      else {
        load.bad++;
        load.lastError = failed ?? `status line ${JSON.stringify(status)}`;
      }
      if (running) {
        if (failed === null) one();
        else setTimeout(one, 1);
      }
    });
  };
  for (let i = 0; i < concurrency; i++) one();
  load.stop = async () => {
    running = false;
    await drain(() => inFlight);
  };
  return load;
}

/** net.connect, destroy as soon as it connects. */
export function bareTcpConnect(host: string, port: number, concurrency: number): Load {
  const load = newLoad();
  let running = true;
  let inFlight = 0;
  const one = (): void => {
    inFlight++;
    let settled = false;
    const s = connect({ host, port });
    s.on('error', (err) => {
      if (settled) return;
      settled = true;
      inFlight--;
      load.bad++;
      load.lastError = errText(err);
      s.destroy();
      if (running) setTimeout(one, 1);
    });
    s.once('connect', () => {
      settled = true;
      inFlight--;
      load.ok++;
      s.destroy();
      if (running) one();
    });
  };
  for (let i = 0; i < concurrency; i++) one();
  load.stop = async () => {
    running = false;
    await drain(() => inFlight);
  };
  return load;
}
