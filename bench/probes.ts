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
 *   node dist/bench/probes.js [--seconds 10] [--warmup 2] [--concurrency 64] [--rounds 1]
 *        [--modes http-reused,http-new,http-new-undici,tcp] [--only healthmesh,bare,blackbox] [--no-variants]
 *
 * With --rounds R every measurement is repeated R times, interleaved (all
 * cases once per round), and the medians are reported: on a machine shared
 * with other work the single figures swing by 2× or more. `backgroundCores`
 * says how much other load there was in each window.
 *
 * Profile the probing process (healthmesh only, one mode):
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof dist/bench/probes.js --only healthmesh --modes http-reused
 *   node dist/bench/lib/cpuprofile.js /tmp/prof/*.cpuprofile
 */
import { spawnSync } from 'node:child_process';
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
import { killAllSync, procCpuMs, selfCpuMs, sleep, stopAll, systemBusyMs } from './lib/proc.js';
import { startBlackbox, startNginx, type Running } from './lib/targets.js';

/**
 * http-new-undici: http-new's checks with `follow_redirects: 1`, which the
 * http check serves on undici (a Client per check, `reset: true`: a new
 * connection per probe) rather than on its hand-written client (http1/client.ts);
 * nginx answers 200, so nothing else differs. Alternated with http-new
 * (--rounds), it is the A/B of the two clients on the same target.
 */
const MODES = ['http-reused', 'http-new', 'http-new-undici', 'tcp'] as const;
type Mode = (typeof MODES)[number];
const SIDES = ['healthmesh', 'bare', 'blackbox'] as const;

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '64' },
    rounds: { type: 'string', default: '1' },
    modes: { type: 'string', default: MODES.join(',') },
    only: { type: 'string', default: SIDES.join(',') },
    'no-variants': { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const concurrency = Number(values.concurrency);
const rounds = Number(values.rounds);
const modes = values.modes.split(',').map((m) => {
  if (!(MODES as readonly string[]).includes(m)) throw new Error(`unknown mode ${m} (use ${MODES.join(', ')})`);
  return m as Mode;
});
const only = new Set(values.only.split(','));
for (const side of only) {
  if (!(SIDES as readonly string[]).includes(side)) throw new Error(`unknown side ${side} in --only (use ${SIDES.join(', ')})`);
}
const variants = !values['no-variants'];
if (!(seconds > 0) || !(warmup >= 0) || !(concurrency >= 1) || !(Number.isInteger(rounds) && rounds >= 1) || modes.length === 0) {
  throw new Error('usage: probes.js [--seconds N>0] [--warmup N>=0] [--concurrency K>=1] [--rounds R>=1] [--modes http-reused,http-new,http-new-undici,tcp]');
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
  /**
   * Cores busy with anything else on the machine over the window (whole
   * machine minus this process, nginx and blackbox_exporter): other load
   * competing for the CPUs makes the figures noisy.
   */
  backgroundCores: number;
  errors: number;
  lastError?: string;
  /** cpuMsPerProbe of each round, when there are several (the figures above are medians). */
  rounds?: number[];
}

/** Several rounds of one case: medians, except probes and errors (sums) and background (max). */
function combine(ms: Measurement[] | undefined): Measurement | undefined {
  if (!ms || ms.length === 0) return undefined;
  if (ms.length === 1) return ms[0];
  const med = (f: (m: Measurement) => number): number => median(ms.map(f));
  const last = ms.findLast((m) => m.lastError !== undefined);
  return {
    probes: ms.reduce((a, m) => a + m.probes, 0),
    probesPerSecond: Math.round(med((m) => m.probesPerSecond)),
    cpuMsPerProbe: round(
      med((m) => m.cpuMsPerProbe),
      4,
    ),
    cpuShare: round(
      med((m) => m.cpuShare),
      3,
    ),
    nginxCpuMsPerProbe: round(
      med((m) => m.nginxCpuMsPerProbe),
      4,
    ),
    backgroundCores: Math.max(...ms.map((m) => m.backgroundCores)),
    errors: ms.reduce((a, m) => a + m.errors, 0),
    ...(last ? { lastError: last.lastError } : {}),
    rounds: ms.map((m) => m.cpuMsPerProbe),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

const log = (msg: string): void => {
  process.stderr.write(`[probes] ${msg}\n`);
};

// ---- lifecycle: every child is killed at the end, on error and on SIGINT/SIGTERM ----
// Configs and logs of the children; bench/probes.sh passes its own temp dir (and removes it).
const dir = mkdtempSync(join(process.env.PROBES_TMPDIR ?? tmpdir(), 'run-'));
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
// Hard bound on the whole run: (warmup + seconds + 10 s) per measurement + a minute, generous.
const measurements = rounds * (modes.length * 2 + (variants ? 3 : 0) + 2);
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

  let blackboxPid = 0;
  const ours = (): number => selfCpuMs() + procCpuMs(nginx.child.pid) + (blackboxPid ? procCpuMs(blackboxPid) : 0);
  const measure = async (label: string, start: () => Load, cpuMs: () => number): Promise<Measurement> => {
    const load = start();
    try {
      await sleep(warmup * 1000);
      const p0 = load.ok + load.bad;
      const e0 = load.bad;
      const n0 = procCpuMs(nginx.child.pid);
      const s0 = systemBusyMs() - ours();
      const c0 = cpuMs();
      const t0 = performance.now();
      await sleep(seconds * 1000);
      const c1 = cpuMs();
      const t1 = performance.now();
      const n1 = procCpuMs(nginx.child.pid);
      const s1 = systemBusyMs() - ours();
      const probes = load.ok + load.bad - p0;
      const errors = load.bad - e0;
      const wallMs = t1 - t0;
      const m: Measurement = {
        probes,
        probesPerSecond: Math.round(probes / (wallMs / 1000)),
        cpuMsPerProbe: round(probes > 0 ? (c1 - c0) / probes : NaN, 4),
        cpuShare: round((c1 - c0) / wallMs, 3),
        nginxCpuMsPerProbe: round(probes > 0 ? (n1 - n0) / probes : NaN, 4),
        backgroundCores: round(Math.max(0, s1 - s0) / wallMs, 2),
        errors,
      };
      if (load.bad > 0) m.lastError = load.lastError;
      log(
        `${label.padEnd(28)} ${String(m.probesPerSecond).padStart(7)} probes/s  ${m.cpuMsPerProbe.toFixed(4)} ms CPU/probe  (cpu ${Math.round(m.cpuShare * 100)}%, errors ${errors}${m.backgroundCores >= 0.1 ? `, other load ${m.backgroundCores} cores` : ''}${m.lastError ? `, last: ${m.lastError}` : ''})`,
      );
      if (probes === 0) throw new Error(`${label}: no probe completed${load.lastError ? ` (${load.lastError})` : ''}`);
      return m;
    } finally {
      await load.stop();
      await sleep(300); // let closed sockets settle before the next measurement
    }
  };

  const origin = `http://${HOST}:${nginx.port}`;
  let bb: Running | null = null;
  if (only.has('blackbox')) {
    // Started up front so every round can use it; idle between its own windows.
    bb = await startBlackbox(dir);
    blackboxPid = bb.child.pid;
    log(`${bb.version} on ${HOST}:${bb.port} (pid ${bb.child.pid})`);
  }

  /** One thing to measure; every round measures each case once, in this order. */
  interface Case {
    key: string;
    label: string;
    start: () => Load;
    cpu: () => number;
  }
  const cases: Case[] = [];
  for (const mode of modes) {
    if (only.has('healthmesh')) {
      cases.push({ key: `healthmesh/${mode}`, label: `healthmesh ${mode}`, start: () => healthmeshLoad(mode, nginx.port), cpu: selfCpuMs });
    }
    if (!only.has('bare') || mode === 'http-new-undici') continue;
    if (mode === 'tcp') {
      cases.push({ key: 'bare/tcp', label: 'bare tcp connect', start: () => bareTcpConnect(HOST, nginx.port, concurrency), cpu: selfCpuMs });
      continue;
    }
    const reset = mode === 'http-new';
    cases.push({ key: `bare/${mode}`, label: `bare ${mode} request`, start: () => bareHttpRequest(origin, concurrency, reset), cpu: selfCpuMs });
    if (variants) {
      cases.push({
        key: `variant/${mode}/dispatch`,
        label: `bare ${mode} dispatch`,
        start: () => bareHttpDispatch(origin, concurrency, reset),
        cpu: selfCpuMs,
      });
      if (reset)
        cases.push({
          key: `variant/${mode}/raw-net`,
          label: `bare ${mode} raw-net`,
          start: () => bareHttpRawNet(HOST, nginx.port, concurrency),
          cpu: selfCpuMs,
        });
    }
  }
  if (bb) {
    const bbPort = bb.port;
    const bbCpu = (): number => procCpuMs(blackboxPid);
    if (modes.some((m) => m.startsWith('http'))) {
      const path = `/probe?module=http_2xx&target=${encodeURIComponent(`${origin}/`)}`;
      cases.push({ key: 'blackbox/http', label: 'blackbox_exporter http_2xx', start: () => blackboxLoad(bbPort, path), cpu: bbCpu });
    }
    if (modes.includes('tcp')) {
      const path = `/probe?module=tcp_connect&target=${encodeURIComponent(`${HOST}:${nginx.port}`)}`;
      cases.push({ key: 'blackbox/tcp', label: 'blackbox_exporter tcp_connect', start: () => blackboxLoad(bbPort, path), cpu: bbCpu });
    }
  }

  const samples = new Map<string, Measurement[]>();
  for (let r = 1; r <= rounds; r++) {
    if (rounds > 1) log(`round ${r} of ${rounds}`);
    for (const c of cases) {
      const m = await measure(c.label, c.start, c.cpu);
      samples.set(c.key, [...(samples.get(c.key) ?? []), m]);
    }
  }
  const get = (key: string): Measurement | undefined => combine(samples.get(key));

  const healthmesh: Partial<Record<Mode, Measurement>> = {};
  const bare: Partial<Record<Mode, Measurement & { variant: string }>> = {};
  const bareVariants: Record<string, Measurement> = {};
  for (const mode of modes) {
    const hm = get(`healthmesh/${mode}`);
    if (hm) healthmesh[mode] = hm;
    const b = get(`bare/${mode}`);
    const variant = mode === 'tcp' ? 'net.connect+destroy' : `undici Client.request${mode === 'http-new' ? ' reset:true' : ''}`;
    if (b) bare[mode] = { variant, ...b };
    for (const v of ['dispatch', 'raw-net']) {
      const m = get(`variant/${mode}/${v}`);
      if (m) bareVariants[`${mode}/${v}`] = m;
    }
  }
  const blackbox = { http: get('blackbox/http'), tcp: get('blackbox/tcp') };

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

  // The two clients of the http check on new connections: lean CPU per probe ÷ undici's (below 0.75: lean is 25 % cheaper).
  const lean = healthmesh['http-new'];
  const und = healthmesh['http-new-undici'];
  const newClients =
    lean && und
      ? {
          ratio: ratio(lean, und),
          perRound: lean.rounds && und.rounds ? lean.rounds.map((l, i) => round(l / (und.rounds?.[i] ?? NaN), 3)) : undefined,
        }
      : undefined;

  const slim = (m: Measurement | undefined): object | undefined =>
    m && {
      probesPerSecond: m.probesPerSecond,
      cpuMsPerProbe: m.cpuMsPerProbe,
      ...(m.rounds ? { rounds: m.rounds } : {}),
      cpuShare: m.cpuShare,
      nginxCpuMsPerProbe: m.nginxCpuMsPerProbe,
      backgroundCores: m.backgroundCores,
      probes: m.probes,
      errors: m.errors,
      ...(m.lastError ? { lastError: m.lastError } : {}),
    };

  const all = [...Object.values(healthmesh), ...Object.values(bare), ...Object.values(bareVariants), blackbox.http, blackbox.tcp];
  const maxBackgroundCores = Math.max(0, ...all.map((m) => m?.backgroundCores ?? 0));
  if (maxBackgroundCores >= 0.2) log(`warning: other processes used up to ${maxBackgroundCores} cores during the measurements; figures are noisy`);

  console.log(
    JSON.stringify({
      bench: 'probes',
      seconds,
      warmupSeconds: warmup,
      rounds,
      concurrency,
      cpus: cpus().length,
      node: process.version,
      source: sourceState(),
      target: nginx.version,
      blackboxVersion: bb?.version,
      maxBackgroundCores,
      healthmesh: mapValues(healthmesh, slim),
      bare: mapValues(bare, (m) => m && { variant: m.variant, ...slim(m) }),
      bareVariants: mapValues(bareVariants, slim),
      blackbox: { http: slim(blackbox.http), tcp: slim(blackbox.tcp) },
      ratios: { vsBlackbox, vsBare, vsFloor, ...(newClients ? { newConnectionLeanVsUndici: newClients } : {}) },
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
        : httpCheckSchema.parse({
            kind: 'http',
            path: '/',
            reuse_connections: mode === 'http-reused',
            follow_redirects: mode === 'http-new-undici' ? 1 : 0,
            ...timing,
          });
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

/** Commit measured and whether src/ had uncommitted changes (read-only git calls; null outside a repo). */
function sourceState(): { commit: string; srcDirty: boolean } | null {
  const git = (args: string[]): string | null => {
    const r = spawnSync('git', args, { encoding: 'utf8', timeout: 5000 });
    return r.status === 0 ? r.stdout.trim() : null;
  };
  const commit = git(['rev-parse', '--short', 'HEAD']);
  if (commit === null) return null;
  return { commit, srcDirty: (git(['status', '--porcelain', '--', 'src']) ?? '') !== '' };
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
