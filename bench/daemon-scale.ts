/**
 * bench/daemon-scale: the real daemon process (`dist/src/cli.js start`) with
 * N checks (70 % HTTP, 30 % TCP; one check per instance, 100 instances per
 * service, every instance a distinct 127.x.y.z address) against one nginx
 * listening on 0.0.0.0, with SQLite history, metrics and the API on. N =
 * 1 000 runs at a 1 s interval (≈ 1 000 probes/s, the baseline), larger N at
 * 10 s. Prints one JSON line per N (and per bare-loop baseline):
 *
 * - cpuMsPerProbe: daemon CPU (/proc/PID/stat, all threads) over the window
 *   between two scrapes, divided by the probes the counters grew by;
 *   probesPerSec from `healthmesh_check_runs_total`.
 * - rss and heap per check (heap from `nodejs_heap_size_used_bytes`),
 *   windowed start-lag p99 (`healthmesh_scheduler_lag_seconds`), its max since
 *   start, the longest event-loop stall between the two scrapes
 *   (`nodejs_eventloop_lag_max_seconds`: prom-client resets it on collect).
 * - /metrics time, CPU and size; a page of services, a page of instances and
 *   /health; open descriptors; time from spawn to ready and to a first result
 *   of every check; config load time (the daemon's own loadConfigFile, here);
 *   a reload changing one check; the schedule watch's "checks start late"
 *   and "on time again" log lines (scheduleWatch).
 * - bare: a Node loop with no healthmesh code (child process) on the same
 *   probe mix, rate, addresses and connection policy: the CPU floor.
 *
 *   bash bench/daemon-scale.sh [--n 1000,10000,100000] [--seconds 60] [--reuse auto|true|false]
 *                              [--per-check status|full|none] [--no-bare] [--profile DIR]
 *
 * Each N stops by itself: warm-up (two intervals + 10 s, longer at 100 000) plus
 * `seconds` of window, plus bounded waits for start and first results.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../src/config/load.js';
import { freePort, killAllSync, procCpuMs, sleep, startChild, stopAll, stopChild, threadCpuMs } from './lib/proc.js';
import { round3 } from './lib/stats.js';
import { addressOf } from './lib/scale-targets.js';
import { startNginx } from './lib/targets.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '1000,10000,100000' },
    seconds: { type: 'string', default: '45' },
    reuse: { type: 'string', default: 'default' },
    'per-check': { type: 'string' },
    'no-bare': { type: 'boolean', default: false },
    'bare-only': { type: 'string' },
    cli: { type: 'string', default: 'dist/src/cli.js' },
    profile: { type: 'string' },
  },
});

process.on('exit', killAllSync);
process.on('SIGINT', () => process.exit(130));

const NGINX = process.env.NGINX_BIN ?? '/usr/sbin/nginx';
const PER_SERVICE = 100;
const WINDOW_S = Number(values.seconds);
const dir = mkdtempSync(join(tmpdir(), 'hm-scale-'));

interface Scrape {
  text: string;
  ms: number;
  cpuMs: number;
  at: number;
}

function intervalFor(n: number): number {
  return n <= 1000 ? 1 : 10;
}

function writeConfig(n: number, nginxPort: number, apiPort: number, sub: string, tweak = ''): string {
  const lines: string[] = [];
  const services = Math.ceil(n / PER_SERVICE);
  const reuse = values.reuse === 'default' ? '' : `, reuse_connections: ${values.reuse}`;
  for (let s = 0; s < services; s++) {
    const http = s % 10 < 7;
    lines.push(`  s${s}:`, '    instances:');
    for (let i = 0; i < PER_SERVICE && s * PER_SERVICE + i < n; i++) {
      // The reload's one change: instance 0 moves to an address no other check uses.
      const at = tweak !== '' && s === 0 && i === 0 ? n : s * PER_SERVICE + i;
      lines.push(`      - { id: i${i}, address: "${addressOf(at)}:${nginxPort}" }`);
    }
    lines.push(http ? `    checks: [{ kind: http${reuse} }]` : '    checks: [{ kind: tcp }]');
  }
  const perCheck = values['per-check'] !== undefined ? `metrics: { per_check: ${values['per-check']} }\n` : '';
  const file = join(sub, 'healthmesh.yaml');
  writeFileSync(
    file,
    `server: { listen: "127.0.0.1:${apiPort}" }\nstorage: { path: "${join(sub, 'hm.db')}" }\n${perCheck}` +
      `defaults: { interval: ${intervalFor(n)}s, timeout: 2s }\nservices:\n${lines.join('\n')}\n`,
  );
  return file;
}

async function timed(url: string, init?: RequestInit): Promise<{ ms: number; status: number; text: string }> {
  const t0 = performance.now();
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(60_000) });
  const text = await res.text();
  return { ms: round3(performance.now() - t0), status: res.status, text };
}

async function scrape(base: string, pid: number): Promise<Scrape> {
  const c0 = procCpuMs(pid);
  const r = await timed(`${base}/metrics`);
  return { text: r.text, ms: r.ms, cpuMs: procCpuMs(pid) - c0, at: performance.now() };
}

/** Sum of every sample of `name` (exact family name, any labels) in a scrape. */
function sum(text: string, name: string, labelFilter?: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    if (labelFilter !== undefined && !rest.includes(labelFilter)) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

function openFds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return -1;
  }
}

/** Polls the services list until no instance is UNKNOWN (each instance has one check). */
async function unknownInstances(base: string): Promise<number> {
  let unknown = 0;
  let cursor: string | null = null;
  for (let page = 0; page < 200; page++) {
    const q: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
    const res = await fetch(`${base}/api/v1/services?limit=1000${q}`, { signal: AbortSignal.timeout(30_000) });
    const body = (await res.json()) as { items: Array<{ instances: Record<string, number> }>; nextCursor: string | null };
    for (const it of body.items) unknown += it.instances.UNKNOWN ?? 0;
    cursor = body.nextCursor;
    if (cursor === null) break;
  }
  return unknown;
}

async function measureDaemon(n: number, nginxPort: number): Promise<Record<string, unknown>> {
  const sub = join(dir, `n${n}`);
  mkdirSync(sub, { recursive: true });
  const apiPort = await freePort();
  const file = writeConfig(n, nginxPort, apiPort, sub);
  const base = `http://127.0.0.1:${apiPort}`;
  const interval = intervalFor(n);

  // The daemon's own loader, timed here: parse, validate and build.
  const l0 = performance.now();
  await loadConfigFile(file);
  const configLoadMs = Math.round(performance.now() - l0);

  const nodeArgs = ['--max-old-space-size=4096'];
  if (values.profile !== undefined) {
    mkdirSync(values.profile, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${values.profile}`);
    nodeArgs.push('--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${values.profile}`);
  }
  const t0 = performance.now();
  // The log goes to a file (as cheap for the daemon as /dev/null), read at the end for the schedule watch's lines.
  const logFile = join(sub, 'daemon.log');
  const logFd = openSync(logFile, 'w');
  const proc: ChildProcess = spawn('node', [...nodeArgs, values.cli, 'start', '--config', file], {
    stdio: ['ignore', logFd, 'pipe'],
  });
  closeSync(logFd);
  let stderr = '';
  proc.stderr?.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
  const pid = proc.pid!;
  const pidfile = process.env.PROBES_PIDFILE;
  if (pidfile) writeFileSync(pidfile, `${pid}\n`, { flag: 'a' });
  const out: Record<string, unknown> = {
    bench: 'daemon-scale',
    cli: values.cli,
    n,
    intervalS: interval,
    reuse: values.reuse,
    perCheck: values['per-check'] ?? 'default',
    configLoadMs,
  };
  try {
    let readyMs = -1;
    for (let i = 0; i < 1200 && readyMs < 0; i++) {
      if (proc.exitCode !== null) throw new Error(`daemon exited ${proc.exitCode}: ${stderr}`);
      try {
        if ((await fetch(`${base}/readyz`)).status === 200) readyMs = Math.round(performance.now() - t0);
      } catch {
        // not listening yet
      }
      if (readyMs < 0) await sleep(100);
    }
    out.readyMs = readyMs;
    out.rssReadyMb = Math.round(rssBytes(pid) / 1048576);

    // First result of every check: bounded by three intervals plus start slack.
    let firstAllMs = -1;
    const limit = performance.now() + (3 * interval + 30) * 1000;
    while (performance.now() < limit) {
      const unknown = await unknownInstances(base);
      if (unknown === 0) {
        firstAllMs = Math.round(performance.now() - t0 - readyMs);
        break;
      }
      await sleep(500);
    }
    out.firstResultAllMsAfterReady = firstAllMs;
    out.firstResultIntervals = firstAllMs < 0 ? null : round3(firstAllMs / 1000 / interval);

    // Warm-up, then the window between two scrapes.
    // At least 65 s after ready: the lag quantiles are over the last 60 s, and the start-up burst must leave it.
    const sinceReady = (performance.now() - t0 - readyMs) / 1000;
    const warm = Math.max(5, 2 * interval + 10 - sinceReady, 65 - sinceReady);
    await sleep(warm * 1000);
    const s1 = await scrape(base, pid);
    const cpu1 = procCpuMs(pid);
    const threads1 = threadCpuMs(pid);
    const w0 = performance.now();
    const rssSamples: number[] = [];
    while (performance.now() - w0 < WINDOW_S * 1000) {
      await sleep(5000);
      rssSamples.push(rssBytes(pid));
    }
    const cpu2 = procCpuMs(pid);
    const threads2 = threadCpuMs(pid);
    const w1 = performance.now();
    const s2 = await scrape(base, pid);
    const runs1 = sum(s1.text, 'healthmesh_check_runs_total');
    const runs2 = sum(s2.text, 'healthmesh_check_runs_total');
    // Probes in [w0, w1]: the counter rate between the two scrapes' ends, over the window.
    const rate = (runs2 - runs1) / ((s2.at - s1.at) / 1000);
    const probes = rate * ((w1 - w0) / 1000);
    const failures = sum(s2.text, 'healthmesh_check_failures_total') - sum(s1.text, 'healthmesh_check_failures_total');
    out.load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    out.probesPerSec = Math.round(rate);
    out.failuresInWindow = failures;
    out.cpuMsPerProbe = round3((cpu2 - cpu1) / probes);
    out.cpuCoreShare = round3((cpu2 - cpu1) / (w1 - w0));
    // Where it goes: the main thread (the pid itself), and the others by name (libuv pool, V8 GC helpers, the SQLite writer…).
    const byName: Record<string, number> = {};
    for (const [tid, t] of threads2) {
      const name = tid === pid ? 'main' : t.name;
      byName[name] = (byName[name] ?? 0) + (t.ms - (threads1.get(tid)?.ms ?? 0)) / probes;
    }
    out.cpuMsPerProbeByThread = Object.fromEntries(
      Object.entries(byName)
        .map(([k, v]) => [k, round3(v)])
        .filter(([, v]) => (v as number) > 0.0005),
    );
    const rss = rssSamples[rssSamples.length - 1] ?? rssBytes(pid);
    out.rssMb = Math.round(rss / 1048576);
    out.rssKbPerCheck = round3(rss / 1024 / n);
    const heap = sum(s2.text, 'nodejs_heap_size_used_bytes');
    out.heapMb = Math.round(heap / 1048576);
    out.heapKbPerCheck = round3(heap / 1024 / n);
    out.lagP99Ms = round3(sum(s2.text, 'healthmesh_scheduler_lag_seconds', 'quantile="0.99"') * 1000);
    out.lagMaxSinceStartMs = round3(sum(s2.text, 'healthmesh_scheduler_lag_max_seconds') * 1000);
    out.eventLoopStallMaxMs = round3(sum(s2.text, 'nodejs_eventloop_lag_max_seconds') * 1000);
    out.metrics = { ms: s2.ms, cpuMs: Math.round(s2.cpuMs), bytes: s2.text.length, series: s2.text.split('\n').filter((l) => l !== '' && l[0] !== '#').length };
    // What follows may time out on a daemon that struggles: the figures so far are kept.
    try {
      await after();
    } catch (err) {
      out.error = `${(err as Error).name}: ${(err as Error).message}`;
    }
  } catch (err) {
    out.error = `${(err as Error).name}: ${(err as Error).message}`;
  } finally {
    const stopped = new Promise<void>((resolve) => {
      if (proc.exitCode !== null) resolve();
      else proc.once('exit', () => resolve());
    });
    proc.kill('SIGTERM');
    const kill = setTimeout(() => proc.kill('SIGKILL'), 60_000);
    await stopped;
    clearTimeout(kill);
    const log = readFileSync(logFile, 'utf8');
    out.scheduleWatch = { late: count(log, 'checks start late'), onTimeAgain: count(log, 'checks start on time again') };
  }
  return out;

  async function after(): Promise<void> {
    const page = await timed(`${base}/api/v1/services?limit=100`);
    const inst = await timed(`${base}/api/v1/services/s1/instances?status=healthy&limit=100`);
    await timed(`${base}/health`);
    const health = await timed(`${base}/health`);
    const api = { servicesPageMs: page.ms, instancesPageMs: inst.ms, healthMs: health.ms };
    out.api = api;
    out.openFds = openFds(pid);

    if (values.profile !== undefined && n <= 10_000) {
      // A heap snapshot of the steady state (written by the daemon; it stalls while writing).
      proc.kill('SIGUSR2');
      await sleep(20_000);
    }

    // Reload changing one check: the time of POST /api/v1/reload.
    writeConfig(n, nginxPort, apiPort, sub, 'changed');
    const r = await timed(`${base}/api/v1/reload`, { method: 'POST' });
    out.reload = { ms: r.ms, status: r.status, body: r.text.slice(0, 200) };
    await sleep(2000);
    const s3 = await scrape(base, pid);
    out.lagP99AfterReloadMs = round3(sum(s3.text, 'healthmesh_scheduler_lag_seconds', 'quantile="0.99"') * 1000);
  }
}

async function measureBare(n: number, nginxPort: number, reuseHttp: boolean): Promise<Record<string, unknown>> {
  const interval = intervalFor(n);
  const params = { n, intervalMs: interval * 1000, port: nginxPort, reuseHttp, seconds: Math.min(WINDOW_S, 30) };
  const child = startChild('bare', 'node', [new URL('./lib/scale-bare.js', import.meta.url).pathname, JSON.stringify(params)]);
  let done = false;
  child.proc.once('exit', () => (done = true));
  let text = '';
  child.proc.stdout?.on('data', (b: Buffer) => (text += b.toString()));
  for (let i = 0; i < 300 && !text.startsWith('ready\n') && !done; i++) await sleep(100);
  text = '';
  // Warm-up of two intervals (connections made, JIT warm), then the window.
  await sleep(Math.min(2 * interval, 12) * 1000);
  const c0 = procCpuMs(child.pid);
  child.proc.kill('SIGUSR2'); // mark: the child notes its counts now
  const w0 = performance.now();
  await sleep(params.seconds * 1000);
  const c1 = procCpuMs(child.pid);
  const w1 = performance.now();
  child.proc.kill('SIGUSR2');
  for (let i = 0; i < 50 && text.split('\n').length < 3; i++) await sleep(100);
  const exitedEarly = done;
  const marks = text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { ok: number; bad: number });
  await stopChild(child, 3000);
  const a = marks[0];
  const b = marks[1];
  const probes = a && b ? b.ok + b.bad - (a.ok + a.bad) : NaN;
  return {
    bench: 'daemon-scale-bare',
    n,
    intervalS: interval,
    reuseHttp,
    load: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    probesPerSec: Math.round(probes / ((w1 - w0) / 1000)),
    failures: a && b ? b.bad - a.bad : NaN,
    cpuMsPerProbe: round3((c1 - c0) / probes),
    ...(exitedEarly ? { exitedEarly: child.output().slice(-600) } : {}),
  };
}

try {
  // Every 127.x.y.z reaches it; its 60 s keep-alive keeps reused connections of 10 s checks open.
  const nginx = await startNginx(dir, { bin: NGINX, anyLoopback: true, connections: 19_800 });
  for (const n of values.n.split(',').map(Number)) {
    if (values['bare-only'] !== undefined) {
      console.log(JSON.stringify(await measureBare(n, nginx.port, values['bare-only'] === 'reuse')));
      continue;
    }
    const daemon = await measureDaemon(n, nginx.port);
    console.log(JSON.stringify(daemon));
    if (!values['no-bare']) {
      // The daemon's own policy, read from what it did: kept connections show as open descriptors.
      const reuseHttp = Number(daemon.openFds) > 0.3 * n;
      console.log(JSON.stringify(await measureBare(n, nginx.port, reuseHttp)));
    }
  }
  await stopChild(nginx.child);
} finally {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
}

/** Occurrences of `needle` in `text`. */
function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}
