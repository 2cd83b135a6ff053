/**
 * bench/exec: cost of the exec check's process handling. Runs Debian's
 * `check_dummy 0 ok` N times through the exec runner (process group,
 * capped pipes, abort listener, plugin-output parsing) and N times with a
 * bare child_process.spawn of the same binary with the same stdio handling
 * (detached, stdin ignored, stdout/stderr collected, wait for 'close'),
 * sequentially and with K in flight. The two sides alternate in rounds so
 * machine noise hits both. wallMsPerRun is elapsed time ÷ runs (with K in
 * flight, the inverse of throughput); cpuMsPerRun is this process' CPU.
 * Fork+exec itself (ChildProcess.spawn) is ~85 % of a run's CPU on either
 * side, so on a busy machine the ratio moves by ±20 % from run to run: read
 * it over several runs. Prints one JSON line on stdout.
 *
 *   npm run build && node dist/bench/exec.js [--runs 800] [--concurrency 8] [--rounds 8]
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { commandEnv, execCheck } from '../src/checks/exec.js';
import { execCheckSchema, type ExecCheckConfig } from '../src/config/kinds/exec.js';
import type { CheckRunner, CheckSpec, RunContext } from '../src/core/check.js';
import { realClock, type Clock } from '../src/core/clock.js';
import { realRandom } from '../src/core/random.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '800' },
    concurrency: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '8' },
    plugin: { type: 'string', default: '/usr/lib/nagios/plugins/check_dummy' },
  },
});
const runs = Number(values.runs);
const concurrency = Number(values.concurrency);
const rounds = Number(values.rounds);
const plugin = values.plugin;
if (!(runs >= rounds && concurrency >= 1 && rounds >= 1)) throw new Error('usage: exec.js [--runs N] [--concurrency K] [--rounds R]');
const args = ['0', 'ok'];
/** The target of the issue: exec runner wall time per run within 20 % of a bare spawn. */
const TARGET_RATIO = 1.2;

const config = execCheckSchema.parse({ kind: 'exec', command: [plugin, ...args], timeout: '5s' });
const spec: CheckSpec<ExecCheckConfig> = {
  id: 'bench/i1/exec',
  name: 'exec',
  kind: 'exec' as CheckSpec['kind'],
  service: 'bench',
  instance: 'i1',
  address: '127.0.0.1:1',
  config,
  intervalMs: 10_000,
  timeoutMs: 5000,
  retries: 0,
  retryBackoffMs: 200,
  jitter: 0,
  rise: 1,
  fall: 1,
  unhealthyIntervalMs: 10_000,
  edgeIntervalMs: 10_000,
  flap: { window: 21, low: 0.05, high: 0.2 },
};
const runner: CheckRunner = execCheck(spec, { clock: realClock, random: realRandom });
let failures = 0;
let lastFailure = '';

/** A run context like the scheduler's: the AbortController is made only if the runner asks for the signal. */
class LazyContext implements RunContext {
  private controller: AbortController | null = null;
  constructor(readonly clock: Clock) {}
  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    return this.controller.signal;
  }
}

/** One run through the exec runner, with a fresh context as the scheduler gives. */
async function viaRunner(): Promise<void> {
  const r = await runner.run(new LazyContext(realClock));
  if (r.status !== 'HEALTHY') {
    failures++;
    lastFailure = r.output;
  }
}

/** The environment the runner gives (PATH, HOME, LANG): LANG alone changes a plugin's start-up (locale loading). */
const bareEnv = commandEnv(process.env, false, {});

/** The same program with bare spawn: same options, output collected, wait for 'close'. */
function bare(): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(plugin, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: bareEnv });
    const out: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', () => {});
    child.on('error', (err) => {
      failures++;
      lastFailure = String(err);
      resolve();
    });
    child.on('close', (code) => {
      if (code !== 0 || !Buffer.concat(out).toString().startsWith('OK')) {
        failures++;
        lastFailure = `bare exit ${code}`;
      }
      resolve();
    });
  });
}

interface Side {
  wallMs: number;
  cpuMs: number;
  runs: number;
}

/** `n` runs of `one`, `k` in flight; wall and CPU time of this process. */
async function measure(one: () => Promise<void>, n: number, k: number, into: Side): Promise<void> {
  let started = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (started < n) {
      started++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: Math.min(k, n) }, worker));
  const cpu = process.cpuUsage(cpu0);
  into.wallMs += performance.now() - t0;
  into.cpuMs += (cpu.user + cpu.system) / 1000;
  into.runs += n;
}

function summary(s: Side): { runsPerSecond: number; wallMsPerRun: number; cpuMsPerRun: number } {
  return {
    runsPerSecond: Math.round((s.runs / s.wallMs) * 1000 * 10) / 10,
    wallMsPerRun: Math.round((s.wallMs / s.runs) * 1000) / 1000,
    cpuMsPerRun: Math.round((s.cpuMs / s.runs) * 1000) / 1000,
  };
}

async function compare(k: number) {
  const mesh: Side = { wallMs: 0, cpuMs: 0, runs: 0 };
  const base: Side = { wallMs: 0, cpuMs: 0, runs: 0 };
  const per = Math.floor(runs / rounds);
  for (let r = 0; r < rounds; r++) {
    // Alternate which side goes first, so neither always runs on a warmer machine.
    if (r % 2 === 0) {
      await measure(viaRunner, per, k, mesh);
      await measure(bare, per, k, base);
    } else {
      await measure(bare, per, k, base);
      await measure(viaRunner, per, k, mesh);
    }
  }
  const m = summary(mesh);
  const b = summary(base);
  return {
    concurrency: k,
    runs: mesh.runs,
    healthmesh: m,
    bare: b,
    /** healthmesh wall per run ÷ bare wall per run (1.0 = same). */
    ratio: Math.round((m.wallMsPerRun / b.wallMsPerRun) * 1000) / 1000,
  };
}

process.stderr.write(`[exec] warming up (${plugin} ${args.join(' ')})\n`);
await measure(viaRunner, 20, 1, { wallMs: 0, cpuMs: 0, runs: 0 });
await measure(bare, 20, 1, { wallMs: 0, cpuMs: 0, runs: 0 });
failures = 0;

process.stderr.write(`[exec] sequential, ${runs} runs a side\n`);
const sequential = await compare(1);
process.stderr.write(`[exec] ${concurrency} in flight, ${runs} runs a side\n`);
const concurrent = await compare(concurrency);
await runner.close?.();

const result = {
  bench: 'exec',
  plugin: `${plugin} ${args.join(' ')}`,
  node: process.version,
  sequential,
  concurrent,
  targetRatio: TARGET_RATIO,
  withinTarget: sequential.ratio <= TARGET_RATIO && concurrent.ratio <= TARGET_RATIO,
  failures,
  ...(failures > 0 ? { lastFailure } : {}),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
