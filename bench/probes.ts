/**
 * bench/probes: HTTP (reused and new connection) and TCP probes at full
 * speed through the real engine (scheduler, checks, status machine, event
 * bus) against a local nginx in another process. Measures probes/s and CPU
 * ms per probe of this process, and in the same run the same figures for
 * Prometheus' blackbox_exporter (CPU of its process, from /proc) and for a
 * bare Node loop with no healthmesh code. Prints one JSON line on stdout,
 * progress on stderr. Every measurement runs alone, one after the other.
 *
 *   bash bench/probes.sh [--seconds 10]          (installs nginx + blackbox_exporter, builds, runs)
 *   node dist/bench/probes.js [--seconds 10] [--warmup 2] [--concurrency 64]
 *        [--modes http-reused,http-new,tcp] [--only healthmesh,bare,blackbox] [--no-variants]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'undici';
import { configSchema, httpCheckSchema, tcpCheckSchema } from '../src/config/schema.js';
import type { CheckSpec } from '../src/core/check.js';
import { realClock } from '../src/core/clock.js';
import { realRandom } from '../src/core/random.js';
import { Engine } from '../src/engine.js';
import { resolveCheck } from '../src/registry/from-config.js';
import { bareHttpDispatch, bareHttpRawNet, bareHttpRequest, bareTcpConnect, type Load } from './lib/bare.js';
import { killAllSync, procCpuMs, selfCpuMs, sleep, stopAll } from './lib/proc.js';
import { startBlackbox, startNginx, type Running } from './lib/targets.js';

const MODES = ['http-reused', 'http-new', 'tcp'] as const;
type Mode = (typeof MODES)[number];
const SIDES = ['healthmesh', 'bare', 'blackbox'] as const;

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '64' },
    modes: { type: 'string', default: MODES.join(',') },
    only: { type: 'string', default: SIDES.join(',') },
    'no-variants': { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const concurrency = Number(values.concurrency);
const modes = values.modes.split(',').map((m) => {
  if (!(MODES as readonly string[]).includes(m)) throw new Error(`unknown mode ${m} (use ${MODES.join(', ')})`);
  return m as Mode;
});
const only = new Set(values.only.split(','));
const variants = !values['no-variants'];
if (!(seconds > 0) || !(warmup >= 0) || !(concurrency >= 1) || modes.length === 0) {
  throw new Error('usage: probes.js [--seconds N>0] [--warmup N>=0] [--concurrency K>=1] [--modes http-reused,http-new,tcp]');
}

const HOST = '127.0.0.1';
/** Targets from the issue: healthmesh CPU/probe ÷ blackbox_exporter's and ÷ the bare loop's. */
const TARGETS = { vsBlackbox: { http: 1 / 3, tcp: 1 / 2 }, vsBare: 1.5 };
/** Reference CPU ms per probe measured on this machine by the issue's author (nginx target). */
const REFERENCE = {
  blackbox: { http: 0.42, tcp: 0.22 },
  bare: { 'http-new': 0.08, 'http-reused': 0.025, tcp: 0.07 },
};

interface Measurement {
  probes: number;
  probesPerSecond: number;
  cpuMsPerProbe: number;
  /** Busy share of one core of the measured process over the window. */
  cpuShare: number;
  /** nginx CPU ms per probe over the same window (the target's own cost, for context). */
  nginxCpuMsPerProbe: number;
  errors: number;
  lastError?: string;
}

const log = (msg: string): void => {
  process.stderr.write(`[probes] ${msg}\n`);
};

// ---- lifecycle: every child is killed at the end, on error and on SIGINT/SIGTERM ----
const dir = mkdtempSync(join(tmpdir(), 'healthmesh-probes-'));
let cleaned = false;
async function cleanup(): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
}
process.on('exit', killAllSync);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    log(`${sig}: stopping`);
    void cleanup().finally(() => process.exit(130));
  });
}
// Hard bound on the whole run: 3 × (warmup + seconds) per measurement + start-up, generous.
const measurements = modes.length * 2 + (variants ? 3 : 0) + 2;
const hardLimit = setTimeout(
  () => {
    log('time limit reached: stopping');
    void cleanup().finally(() => process.exit(124));
  },
  (measurements * (warmup + seconds + 10) + 60) * 1000,
);
hardLimit.unref();

try {
  await main();
} catch (err) {
  log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}

async function main(): Promise<void> {
  const nginx = await startNginx(dir);
  log(`${nginx.version} on ${HOST}:${nginx.port} (pid ${nginx.child.pid}); ${seconds}s per measurement after ${warmup}s warm-up, ${concurrency} in flight`);

  const measure = async (label: string, start: () => Load, cpuMs: () => number): Promise<Measurement> => {
    const load = start();
    try {
      await sleep(warmup * 1000);
      const p0 = load.ok + load.bad;
      const e0 = load.bad;
      const n0 = procCpuMs(nginx.child.pid);
      const c0 = cpuMs();
      const t0 = performance.now();
      await sleep(seconds * 1000);
      const c1 = cpuMs();
      const t1 = performance.now();
      const n1 = procCpuMs(nginx.child.pid);
      const probes = load.ok + load.bad - p0;
      const errors = load.bad - e0;
      const wallMs = t1 - t0;
      const m: Measurement = {
        probes,
        probesPerSecond: Math.round(probes / (wallMs / 1000)),
        cpuMsPerProbe: round(probes > 0 ? (c1 - c0) / probes : NaN, 4),
        cpuShare: round((c1 - c0) / wallMs, 3),
        nginxCpuMsPerProbe: round(probes > 0 ? (n1 - n0) / probes : NaN, 4),
        errors,
      };
      if (load.bad > 0) m.lastError = load.lastError;
      log(`${label.padEnd(28)} ${String(m.probesPerSecond).padStart(7)} probes/s  ${m.cpuMsPerProbe.toFixed(4)} ms CPU/probe  (cpu ${Math.round(m.cpuShare * 100)}%, errors ${errors}${m.lastError ? `, last: ${m.lastError}` : ''})`);
      if (probes === 0) throw new Error(`${label}: no probe completed${load.lastError ? ` (${load.lastError})` : ''}`);
      return m;
    } finally {
      await load.stop();
      await sleep(300); // let closed sockets settle before the next measurement
    }
  };

  const healthmesh: Partial<Record<Mode, Measurement>> = {};
  const bare: Partial<Record<Mode, Measurement & { variant: string }>> = {};
  const bareVariants: Record<string, Measurement> = {};
  const origin = `http://${HOST}:${nginx.port}`;

  for (const mode of modes) {
    if (only.has('healthmesh')) {
      healthmesh[mode] = await measure(`healthmesh ${mode}`, () => healthmeshLoad(mode, nginx.port), selfCpuMs);
    }
    if (only.has('bare')) {
      if (mode === 'tcp') {
        bare[mode] = { ...(await measure('bare tcp connect', () => bareTcpConnect(HOST, nginx.port, concurrency), selfCpuMs)), variant: 'net.connect+destroy' };
      } else {
        const reset = mode === 'http-new';
        bare[mode] = {
          ...(await measure(`bare ${mode} request`, () => bareHttpRequest(origin, concurrency, reset), selfCpuMs)),
          variant: `undici Client.request${reset ? ' reset:true' : ''}`,
        };
        if (variants) {
          bareVariants[`${mode}/dispatch`] = await measure(`bare ${mode} dispatch`, () => bareHttpDispatch(origin, concurrency, reset), selfCpuMs);
          if (reset) bareVariants[`${mode}/raw-net`] = await measure(`bare ${mode} raw-net`, () => bareHttpRawNet(HOST, nginx.port, concurrency), selfCpuMs);
        }
      }
    }
  }

  const blackbox: { http?: Measurement; tcp?: Measurement } = {};
  let bb: Running | null = null;
  if (only.has('blackbox')) {
    bb = await startBlackbox(dir);
    log(`${bb.version} on ${HOST}:${bb.port} (pid ${bb.child.pid})`);
    const bbPid = bb.child.pid;
    const bbCpu = (): number => procCpuMs(bbPid);
    if (modes.some((m) => m.startsWith('http'))) {
      const path = `/probe?module=http_2xx&target=${encodeURIComponent(`${origin}/`)}`;
      blackbox.http = await measure('blackbox_exporter http_2xx', () => blackboxLoad(bb!.port, path), bbCpu);
    }
    if (modes.includes('tcp')) {
      const path = `/probe?module=tcp_connect&target=${encodeURIComponent(`${HOST}:${nginx.port}`)}`;
      blackbox.tcp = await measure('blackbox_exporter tcp_connect', () => blackboxLoad(bb!.port, path), bbCpu);
    }
  }

  // ---- ratios and verdicts ----
  const ratio = (a: Measurement | undefined, b: Measurement | undefined): number | null =>
    a && b && b.cpuMsPerProbe > 0 ? round(a.cpuMsPerProbe / b.cpuMsPerProbe, 3) : null;
  const vsBlackbox: Partial<Record<Mode, number | null>> = {};
  const vsBare: Partial<Record<Mode, number | null>> = {};
  const vsFloor: Partial<Record<Mode, { ratio: number | null; floor: string }>> = {};
  const pass: { vsBlackbox: Partial<Record<Mode, boolean>>; vsBare: Partial<Record<Mode, boolean>>; all: boolean } = {
    vsBlackbox: {},
    vsBare: {},
    all: true,
  };
  for (const mode of modes) {
    const hm = healthmesh[mode];
    const bbm = mode === 'tcp' ? blackbox.tcp : blackbox.http;
    const limit = mode === 'tcp' ? TARGETS.vsBlackbox.tcp : TARGETS.vsBlackbox.http;
    vsBlackbox[mode] = ratio(hm, bbm);
    vsBare[mode] = ratio(hm, bare[mode]);
    // The cheapest bare variant measured for this mode.
    const candidates: Array<[string, Measurement]> = [];
    const b = bare[mode];
    if (b) candidates.push([b.variant, b]);
    for (const [k, v] of Object.entries(bareVariants)) if (k.startsWith(`${mode}/`)) candidates.push([k.slice(mode.length + 1), v]);
    candidates.sort((x, y) => x[1].cpuMsPerProbe - y[1].cpuMsPerProbe);
    if (candidates[0]) vsFloor[mode] = { ratio: ratio(hm, candidates[0][1]), floor: candidates[0][0] };
    const vb = vsBlackbox[mode];
    const vr = vsBare[mode];
    if (vb != null) pass.vsBlackbox[mode] = vb <= limit;
    if (vr != null) pass.vsBare[mode] = vr <= TARGETS.vsBare;
    if ((vb != null && vb > limit) || (vr != null && vr > TARGETS.vsBare)) pass.all = false;
    if (hm && hm.errors > 0) pass.all = false;
  }

  const slim = (m: Measurement | undefined): object | undefined =>
    m && { probesPerSecond: m.probesPerSecond, cpuMsPerProbe: m.cpuMsPerProbe, cpuShare: m.cpuShare, nginxCpuMsPerProbe: m.nginxCpuMsPerProbe, probes: m.probes, errors: m.errors, ...(m.lastError ? { lastError: m.lastError } : {}) };

  console.log(
    JSON.stringify({
      bench: 'probes',
      seconds,
      warmupSeconds: warmup,
      concurrency,
      cpus: cpus().length,
      node: process.version,
      target: nginx.version,
      blackboxVersion: bb?.version,
      healthmesh: mapValues(healthmesh, slim),
      bare: mapValues(bare, (m) => m && { variant: m.variant, ...slim(m) }),
      bareVariants: mapValues(bareVariants, slim),
      blackbox: { http: slim(blackbox.http), tcp: slim(blackbox.tcp) },
      ratios: { vsBlackbox, vsBare, vsFloor },
      targets: { vsBlackbox: { http: round(TARGETS.vsBlackbox.http, 3), tcp: TARGETS.vsBlackbox.tcp }, vsBare: TARGETS.vsBare },
      referenceCpuMsPerProbe: REFERENCE,
      pass,
    }),
  );
}

/** K checks of one kind, 1 ms interval, no jitter, concurrency K: the scheduler keeps K probes in flight. */
function healthmeshLoad(mode: Mode, port: number): Load {
  const defaults = configSchema.parse({ services: {} }).defaults;
  const engine = new Engine({ clock: realClock, random: realRandom, concurrency });
  const load: Load = { ok: 0, bad: 0, lastError: '', stop: () => engine.stop() };
  engine.bus.on('result', ({ result }) => {
    if (result.status === 'HEALTHY') load.ok++;
    else {
      load.bad++;
      load.lastError = `${result.reason}: ${result.output}`;
    }
  });
  for (let i = 0; i < concurrency; i++) {
    const timing = { interval: 1, jitter: 0 };
    const check =
      mode === 'tcp'
        ? tcpCheckSchema.parse({ kind: 'tcp', ...timing })
        : httpCheckSchema.parse({ kind: 'http', path: '/', reuse_connections: mode === 'http-reused', ...timing });
    const spec: CheckSpec = resolveCheck(check, defaults, 'bench', `i${i}`, `${HOST}:${port}`);
    engine.add(spec);
  }
  return load;
}

/** K keep-alive clients calling blackbox_exporter's /probe; a probe counts as ok on `probe_success 1`. */
function blackboxLoad(port: number, path: string): Load {
  const load: Load = { ok: 0, bad: 0, lastError: '', stop: () => Promise.resolve() };
  let running = true;
  const clients = Array.from({ length: concurrency }, () => new Client(`http://${HOST}:${port}`, { pipelining: 1 }));
  const workers = clients.map(async (client) => {
    while (running) {
      try {
        const res = await client.request({ path, method: 'GET' });
        const text = await res.body.text();
        if (res.statusCode === 200 && /^probe_success 1$/m.test(text)) load.ok++;
        else {
          load.bad++;
          load.lastError = `HTTP ${res.statusCode}: ${text.split('\n').find((l) => l.startsWith('probe_success')) ?? text.slice(0, 120)}`;
        }
      } catch (err) {
        load.bad++;
        load.lastError = err instanceof Error ? err.message : String(err);
        await sleep(1);
      }
    }
  });
  load.stop = async () => {
    running = false;
    await Promise.race([Promise.allSettled(workers), sleep(6000)]);
    await Promise.allSettled(clients.map((c) => c.destroy()));
  };
  return load;
}

function mapValues<T, U>(o: Partial<Record<string, T>>, f: (v: T | undefined) => U): Record<string, U> {
  const out: Record<string, U> = {};
  for (const [k, v] of Object.entries(o)) out[k] = f(v);
  return out;
}

function round(x: number, digits: number): number {
  const p = 10 ** digits;
  return Math.round(x * p) / p;
}
