/**
 * bench/grpc: gRPC health Check probes per second and CPU µs per probe of
 * the grpc check runner, against a grpc-js server running grpc-health-check's
 * HealthImplementation in a child process (its CPU is reported apart, not
 * counted). Each probe is one scheduler attempt (attemptWithTimeout: abort
 * controller, timeout timer, runner.run), `concurrency` in flight, for
 * `seconds` after a warm-up:
 *
 *   reused       one runner, one channel (one HTTP/2 connection) for all probes
 *   new-channel  a runner per probe: factory, run, close (new connection each time)
 *   bare-reused  the plain grpc-js generic client (makeGenericClientConstructor +
 *                Check with a deadline) on one channel: the library's floor, no healthmesh
 *   bare-new     the same with a new client (channel) per probe
 *
 * Prints one JSON line on stdout, progress on stderr.
 *
 *   npx tsc -p . && node dist/bench/grpc.js [--seconds 5] [--warmup 1] [--concurrency 32]
 *        [--rounds 1] [--modes reused,new-channel,bare-reused,bare-new]
 *
 * With --rounds R the modes are measured R times, interleaved, and each
 * figure is the median over the rounds (steadier on a busy machine; the
 * load average at the start is printed for context).
 */
import { fileURLToPath } from 'node:url';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { credentials, makeGenericClientConstructor, Server, ServerCredentials, type ChannelOptions, type Client, type ServiceError } from '@grpc/grpc-js';
import { HealthImplementation, service as healthService } from 'grpc-health-check';
import { grpcCheck } from '../src/checks/grpc.js';
import { grpcCheckSchema, type GrpcCheckConfig } from '../src/config/kinds/grpc.js';
import type { CheckKind } from '../src/config/schema.js';
import type { CheckSpec } from '../src/core/check.js';
import { realClock } from '../src/core/clock.js';
import { realRandom } from '../src/core/random.js';
import { attemptWithTimeout } from '../src/scheduler/attempt.js';
import type { Load } from './lib/bare.js';
import { freePort, killAllSync, procCpuMs, selfCpuMs, sleep, startChild, stopAll, waitForPort } from './lib/proc.js';

const MODES = ['reused', 'new-channel', 'bare-reused', 'bare-new'] as const;
type Mode = (typeof MODES)[number];
const HOST = '127.0.0.1';
const TIMEOUT_MS = 2000;

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '1' },
    modes: { type: 'string', default: MODES.join(',') },
    serve: { type: 'boolean', default: false },
    port: { type: 'string', default: '0' },
  },
});

const log = (msg: string): void => {
  process.stderr.write(`[grpc-bench] ${msg}\n`);
};

/** Child process: the health server, until SIGTERM. */
async function serve(port: number): Promise<void> {
  const server = new Server();
  new HealthImplementation({ '': 'SERVING' }).addToServer(server);
  await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${HOST}:${port}`, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  process.once('SIGTERM', () => {
    server.forceShutdown();
    process.exit(0);
  });
}

interface Measurement {
  probes: number;
  probesPerSecond: number;
  /** CPU of this process (user + system) per probe, µs. */
  cpuUsPerProbe: number;
  /** Busy share of one core of this process over the window. */
  cpuShare: number;
  /** The server child's CPU per probe, µs (context; not part of cpuUsPerProbe). */
  serverCpuUsPerProbe: number;
  errors: number;
  lastError?: string;
}

async function runBench(): Promise<void> {
  const seconds = Number(values.seconds);
  const warmup = Number(values.warmup);
  const concurrency = Number(values.concurrency);
  const rounds = Number(values.rounds);
  const modes = values.modes.split(',').map((m) => {
    if (!(MODES as readonly string[]).includes(m)) throw new Error(`unknown mode ${m} (use ${MODES.join(', ')})`);
    return m as Mode;
  });
  if (!(seconds > 0) || !(warmup >= 0) || !(concurrency >= 1) || !(rounds >= 1)) {
    throw new Error('usage: grpc.js [--seconds N>0] [--warmup N>=0] [--concurrency K>=1] [--rounds R>=1] [--modes ...]');
  }

  process.on('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      log(`${sig}: stopping`);
      void stopAll().finally(() => process.exit(130));
    });
  }
  const hardLimit = setTimeout(
    () => {
      log('time limit reached: stopping');
      void stopAll().finally(() => process.exit(124));
    },
    (rounds * modes.length * (warmup + seconds + 10) + 30) * 1000,
  );
  hardLimit.unref();

  try {
    const port = await freePort();
    const server = startChild('grpc-health-server', process.execPath, [fileURLToPath(import.meta.url), '--serve', '--port', String(port)]);
    await waitForPort(server, port);
    const address = `${HOST}:${port}`;
    const loadAverage = loadavg().map((x) => round(x, 2));
    log(
      `grpc-js health server on ${address} (pid ${server.pid}); ${seconds}s per mode after ${warmup}s warm-up, ` +
        `${concurrency} in flight, ${rounds} round(s); load average ${loadAverage.join(' ')}`,
    );

    const samples = new Map<Mode, Measurement[]>();
    // Rounds interleave the modes, so a burst of outside load hits them alike.
    const order = Array.from({ length: rounds }, () => modes).flat();
    for (const mode of order) {
      const load = startLoad(mode, address, concurrency);
      try {
        await sleep(warmup * 1000);
        const p0 = load.ok + load.bad;
        const e0 = load.bad;
        const s0 = procCpuMs(server.pid);
        const c0 = selfCpuMs();
        const t0 = performance.now();
        await sleep(seconds * 1000);
        const c1 = selfCpuMs();
        const t1 = performance.now();
        const s1 = procCpuMs(server.pid);
        const probes = load.ok + load.bad - p0;
        const wallMs = t1 - t0;
        const m: Measurement = {
          probes,
          probesPerSecond: Math.round(probes / (wallMs / 1000)),
          cpuUsPerProbe: round(probes > 0 ? ((c1 - c0) * 1000) / probes : NaN, 1),
          cpuShare: round((c1 - c0) / wallMs, 3),
          serverCpuUsPerProbe: round(probes > 0 ? ((s1 - s0) * 1000) / probes : NaN, 1),
          errors: load.bad - e0,
        };
        if (m.errors > 0) m.lastError = load.lastError;
        samples.set(mode, [...(samples.get(mode) ?? []), m]);
        log(
          `${mode.padEnd(12)} ${String(m.probesPerSecond).padStart(7)} probes/s  ${m.cpuUsPerProbe.toFixed(1).padStart(7)} µs CPU/probe` +
            `  (cpu ${Math.round(m.cpuShare * 100)}%, server ${m.serverCpuUsPerProbe} µs/probe, errors ${m.errors}${m.lastError ? `, last: ${m.lastError}` : ''})`,
        );
        if (probes === 0) throw new Error(`${mode}: no probe completed${load.lastError ? ` (${load.lastError})` : ''}`);
      } finally {
        await load.stop();
        await sleep(300); // let closed connections settle before the next mode
      }
    }

    const results: Partial<Record<Mode, Measurement>> = {};
    for (const [mode, ms] of samples) results[mode] = median(ms);
    const ratio = (a: Mode, b: Mode): number | null => {
      const x = results[a];
      const y = results[b];
      return x && y && y.cpuUsPerProbe > 0 ? round(x.cpuUsPerProbe / y.cpuUsPerProbe, 2) : null;
    };
    console.log(
      JSON.stringify({
        bench: 'grpc',
        seconds,
        warmupSeconds: warmup,
        concurrency,
        rounds,
        cpus: cpus().length,
        loadAverage,
        node: process.version,
        results,
        ratios: {
          reusedVsBare: ratio('reused', 'bare-reused'),
          newChannelVsBare: ratio('new-channel', 'bare-new'),
          newChannelVsReused: ratio('new-channel', 'reused'),
        },
      }),
    );
  } catch (err) {
    log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 1;
  } finally {
    await stopAll();
  }
}

function benchSpec(address: string): CheckSpec<GrpcCheckConfig> {
  return {
    id: 'bench/i1/grpc',
    name: 'grpc',
    kind: 'grpc' as CheckKind,
    service: 'bench',
    instance: 'i1',
    address,
    config: grpcCheckSchema.parse({ kind: 'grpc' }),
    intervalMs: 1000,
    timeoutMs: TIMEOUT_MS,
    retries: 0,
    retryBackoffMs: 0,
    jitter: 0,
    rise: 1,
    fall: 1,
    unhealthyIntervalMs: 1000,
    edgeIntervalMs: 1000,
    flap: { window: 21, low: 0.05, high: 0.2 },
  };
}

/** `concurrency` loops of one probe at a time each, until stopped. */
function startLoad(mode: Mode, address: string, concurrency: number): Load {
  const load: Load = { ok: 0, bad: 0, lastError: '', stop: () => Promise.resolve() };
  let running = true;
  const spec = benchSpec(address);
  const count = (ok: boolean, error: string): void => {
    if (ok) load.ok++;
    else {
      load.bad++;
      load.lastError = error;
    }
  };
  let probe: () => Promise<void>;
  let shutdown = (): void => {};

  switch (mode) {
    case 'reused': {
      const runner = grpcCheck(spec, { clock: realClock, random: realRandom });
      probe = async () => {
        const o = await attemptWithTimeout(runner, realClock, TIMEOUT_MS);
        count(o.status === 'HEALTHY', `${o.reason}: ${o.output}`);
      };
      shutdown = () => void runner.close?.();
      break;
    }
    case 'new-channel':
      probe = async () => {
        const runner = grpcCheck(spec, { clock: realClock, random: realRandom });
        const o = await attemptWithTimeout(runner, realClock, TIMEOUT_MS);
        await runner.close?.();
        count(o.status === 'HEALTHY', `${o.reason}: ${o.output}`);
      };
      break;
    case 'bare-reused': {
      const client = bareClient(address);
      probe = () => bareCheck(client).then(([ok, e]) => count(ok, e));
      shutdown = () => client.close();
      break;
    }
    case 'bare-new':
      probe = async () => {
        const client = bareClient(address);
        const [ok, e] = await bareCheck(client);
        client.close();
        count(ok, e);
      };
      break;
  }

  const workers = Array.from({ length: concurrency }, async () => {
    while (running) {
      try {
        await probe();
      } catch (err) {
        count(false, err instanceof Error ? err.message : String(err));
        await sleep(1);
      }
    }
  });
  load.stop = async () => {
    running = false;
    await Promise.race([Promise.allSettled(workers), sleep(TIMEOUT_MS + 3000)]);
    shutdown();
  };
  return load;
}

/** The same channel options the runner uses, so the two differ only in the call path. */
const BARE_OPTIONS: ChannelOptions = {
  'grpc.use_local_subchannel_pool': 1,
  'grpc.enable_retries': 0,
  'grpc.service_config_disable_resolution': 1,
  'grpc.enable_channelz': 0,
};
const HealthClient = makeGenericClientConstructor(healthService, 'Health');

function bareClient(address: string): Client & { Check?: unknown } {
  return new HealthClient(address, credentials.createInsecure(), BARE_OPTIONS);
}

type CheckMethod = (req: { service: string }, options: { deadline: number }, cb: (err: ServiceError | null, res?: { status?: string }) => void) => void;

function bareCheck(client: Client & { Check?: unknown }): Promise<[boolean, string]> {
  return new Promise((resolve) => {
    (client.Check as CheckMethod).call(client, { service: '' }, { deadline: Date.now() + TIMEOUT_MS }, (err, res) => {
      if (err) resolve([false, `${err.code}: ${err.details}`]);
      else resolve([res?.status === 'SERVING', String(res?.status)]);
    });
  });
}

/** Per figure, the median over rounds; counts are summed. */
function median(ms: Measurement[]): Measurement {
  const mid = (f: (m: Measurement) => number): number => {
    const v = ms.map(f).sort((a, b) => a - b);
    const h = Math.floor(v.length / 2);
    return v.length % 2 === 1 ? (v[h] as number) : ((v[h - 1] as number) + (v[h] as number)) / 2;
  };
  const out: Measurement = {
    probes: ms.reduce((n, m) => n + m.probes, 0),
    probesPerSecond: Math.round(mid((m) => m.probesPerSecond)),
    cpuUsPerProbe: round(
      mid((m) => m.cpuUsPerProbe),
      1,
    ),
    cpuShare: round(
      mid((m) => m.cpuShare),
      3,
    ),
    serverCpuUsPerProbe: round(
      mid((m) => m.serverCpuUsPerProbe),
      1,
    ),
    errors: ms.reduce((n, m) => n + m.errors, 0),
  };
  const last = ms.findLast((m) => m.lastError !== undefined);
  if (last?.lastError !== undefined) out.lastError = last.lastError;
  return out;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

// Last, so every module-level constant above is initialised before use.
if (values.serve) {
  await serve(Number(values.port));
} else {
  await runBench();
}
