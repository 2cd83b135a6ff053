/**
 * bench/feed: CPU of one balancer score tick of the in-process feed
 * (src/balancer/local-feed.ts) at 1,000 and 10,000 instances (100 per
 * service, one check each), with 1 % of the instances having results
 * between ticks. Prints one JSON line.
 *
 *   npx tsc -p . && node dist/bench/feed.js [--sizes 1000,10000] [--ticks 40] [--changing 0.01]
 *
 * The real engine, registry, rollup and balancers run on a fake clock: the
 * changing instances (instance 0 of every 100: spread over every service)
 * are checked every 2 s, the rest once an hour. Two runs per size:
 * `swinging`: their runner alternates pass and fail with fall: 100, so the
 * status stays HEALTHY while the score swings by about 6 points a result and
 * every changed instance crosses the balancer's rebuild step (the worst case:
 * each tick rebuilds every service once, in both builds); `steady`: they
 * always pass, so results arrive but scores stay (the daemon's usual case).
 * Per tick it times, in alternation, `before`: the old timer
 * work (`refreshAll`, every member of every service) and `after`: the
 * current one (`refreshScores`, only the instances with results). Only the
 * tick is timed, not the checks. CPU is process.cpuUsage (user + system),
 * one thread.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import type { CheckRunner } from '../src/core/check.js';
import { FakeClock } from '../src/core/clock.js';
import { seeded } from '../src/core/random.js';
import type { CheckResult } from '../src/core/result.js';
import { parseConfig } from '../src/config/load.js';
import { Engine } from '../src/engine.js';
import { Registry } from '../src/registry/registry.js';
import { StatusRollup } from '../src/status/rollup.js';
import { BalancerSet, balancerConfigs } from '../src/balancer/balancer-set.js';
import { LocalFeed } from '../src/balancer/local-feed.js';

const { values } = parseArgs({
  options: { sizes: { type: 'string', default: '1000,10000' }, ticks: { type: 'string', default: '40' }, changing: { type: 'string', default: '0.01' } },
});
const SIZES = values.sizes.split(',').map(Number);
const TICKS = Number(values.ticks);
const CHANGING = Number(values.changing);
const PER_SERVICE = 100;
const TICK_MS = 2_000;

/** Let the fake-clock checks' async runs and their results settle (real event-loop turns, bounded). */
async function drain(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

function configYaml(n: number, hotEvery: number): string {
  const services: Record<string, unknown> = {};
  for (let s = 0; s < n / PER_SERVICE; s++) {
    const instances = [];
    for (let i = 0; i < PER_SERVICE; i++) {
      const k = s * PER_SERVICE + i;
      const interval = k % hotEvery === 0 ? '2s' : '1h';
      instances.push({ id: `i${i}`, address: `127.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}:80`, checks: [{ kind: 'tcp', interval }] });
    }
    services[`svc${s}`] = { instances, balancer: { outlier: { enabled: false } } };
  }
  return JSON.stringify({ defaults: { rise: 1, fall: 100, jitter: 0 }, services });
}

interface Timing {
  cpuMsPerTick: number;
  wallMsPerTick: number;
  wallMsP50: number;
}

function summarise(cpuUs: number[], wallMs: number[]): Timing {
  const sorted = [...wallMs].sort((a, b) => a - b);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return { cpuMsPerTick: round(mean(cpuUs) / 1000), wallMsPerTick: round(mean(wallMs)), wallMsP50: round(sorted[Math.floor(sorted.length / 2)]!) };
}

async function run(n: number, swinging: boolean) {
  const hotEvery = Math.max(1, Math.round(1 / CHANGING));
  const clock = new FakeClock(1_000_000);
  const flips = new Map<string, number>();
  const runnerFor = (spec: { instance: string; service: string }): CheckRunner => {
    const key = `${spec.service}/${spec.instance}`;
    return {
      run: async (): Promise<Omit<CheckResult, 'observedAt' | 'durationMs'> & Partial<CheckResult>> => {
        const f = (flips.get(key) ?? 0) + 1;
        flips.set(key, f);
        return !swinging || f === 1 || f % 2 === 0
          ? { status: 'HEALTHY', reason: 'ok', output: 'ok' }
          : { status: 'UNHEALTHY', reason: 'connect_refused', output: 'refused' };
      },
    } as CheckRunner;
  };
  const engine = new Engine({ clock, random: seeded(1), concurrency: n, spreadFirstRun: false, runnerFor });
  const config = parseConfig(configYaml(n, hotEvery), { env: {} });
  const registry = new Registry(engine, config, undefined, clock);
  const rollup = new StatusRollup((s) => registry.rollupSettings(s));
  rollup.attach(engine.bus);
  const set = new BalancerSet({ clock, random: seeded(2) });
  set.configure(balancerConfigs(config));
  // The feed's own timer never fires here (ticks are called by hand, timed one at a time).
  const feed = new LocalFeed({ set, engine, registry, rollup, clock, scoreRefreshMs: 1e12 });
  feed.start();
  registry.applyConfig(config);
  clock.advance(1);
  await drain();
  feed.refreshScores(); // first results of everything: not the steady state
  const cpu = { before: [] as number[], after: [] as number[] };
  const wall = { before: [] as number[], after: [] as number[] };
  for (let t = 0; t < 2 * TICKS + 4; t++) {
    clock.advance(TICK_MS);
    await drain();
    const which = t % 2 === 0 ? 'before' : 'after';
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    if (which === 'before') feed.refreshAll();
    else feed.refreshScores();
    const w = performance.now() - w0;
    const c = process.cpuUsage(c0);
    if (which === 'before') feed.refreshScores(); // drop this round's notes, untimed
    if (t < 4) continue; // warm-up: JIT
    cpu[which].push(c.user + c.system);
    wall[which].push(w);
  }
  const hot = [...flips.values()].filter((f) => f > 1).length;
  feed.stop();
  set.close();
  await engine.stop();
  return {
    instances: n,
    scores: swinging ? 'swinging' : 'steady',
    services: n / PER_SERVICE,
    changingPerTick: hot,
    ticks: TICKS,
    before: summarise(cpu.before, wall.before),
    after: summarise(cpu.after, wall.after),
  };
}

const results = [];
for (const n of SIZES) for (const swinging of [true, false]) results.push(await run(n, swinging));
console.log(
  JSON.stringify({
    bench: 'feed',
    node: process.version,
    loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
    changingShare: CHANGING,
    tickMs: TICK_MS,
    results,
  }),
);
