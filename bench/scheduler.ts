/**
 * bench/scheduler: N checks (default 100k) at a 10 s interval with instant
 * runners on the real clock, through the real engine (scheduler, status
 * machine, event bus). Prints JSON: start lag quantiles, heap per check, CPU.
 *
 *   npm run build && node --expose-gc dist/bench/scheduler.js [--checks 100000] [--seconds 60]
 */
import { parseArgs } from 'node:util';
import type { CheckRunner } from '../src/core/check.js';
import { realClock } from '../src/core/clock.js';
import { realRandom } from '../src/core/random.js';
import type { ProbeOutcome } from '../src/core/result.js';
import { Engine } from '../src/engine.js';
import { resolveCheck } from '../src/registry/from-config.js';
import { configSchema, tcpCheckSchema } from '../src/config/schema.js';

const { values } = parseArgs({
  options: {
    checks: { type: 'string', default: '100000' },
    seconds: { type: 'string', default: '60' },
    interval: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '1024' },
  },
});
const checks = Number(values.checks);
const seconds = Number(values.seconds);
const intervalMs = Number(values.interval);

const gc = (globalThis as { gc?: () => void }).gc;
const heapNow = (): number => {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
};

const HEALTHY: ProbeOutcome = { status: 'HEALTHY', reason: 'ok', output: 'ok' };
const instant: CheckRunner = { run: () => Promise.resolve(HEALTHY) };

const defaults = configSchema.parse({ services: {} }).defaults;
const checkConfig = tcpCheckSchema.parse({ kind: 'tcp' });
const heapBefore = heapNow();
const engine = new Engine({ clock: realClock, random: realRandom, concurrency: Number(values.concurrency), runnerFor: () => instant });
let results = 0;
engine.bus.on('result', () => results++);
for (let i = 0; i < checks; i++) {
  const spec = resolveCheck(checkConfig, { ...defaults, interval: intervalMs, jitter: 0.1 }, 'bench', `i${i}`, `10.0.${(i >> 8) & 255}.${i & 255}:80`);
  engine.add(spec);
}
const heapAfter = heapNow();

// Warm up for one interval (first runs are spread over it), then measure.
await new Promise((r) => setTimeout(r, intervalMs));
engine.resetLag();
const runsAtStart = engine.schedulerStats().runs;
const cpuStart = process.cpuUsage();
const wallStart = performance.now();
let eventLoopMax = 0;
let lastTick = performance.now();
const ticker = setInterval(() => {
  const now = performance.now();
  eventLoopMax = Math.max(eventLoopMax, now - lastTick - 100);
  lastTick = now;
}, 100);
await new Promise((r) => setTimeout(r, seconds * 1000));
clearInterval(ticker);
const cpu = process.cpuUsage(cpuStart);
const wall = performance.now() - wallStart;
const stats = engine.schedulerStats();
const runs = stats.runs - runsAtStart;
await engine.stop();

const cpuMs = (cpu.user + cpu.system) / 1000;
console.log(
  JSON.stringify({
    bench: 'scheduler',
    checks,
    intervalMs,
    seconds: Math.round(wall / 1000),
    runs,
    runsPerSecond: Math.round(runs / (wall / 1000)),
    lagMs: { p50: round(stats.lag.p50), p99: round(stats.lag.p99), max: round(stats.lag.max), mean: round(stats.lag.mean) },
    heapBytesPerCheck: Math.round((heapAfter - heapBefore) / checks),
    cpu: {
      msPerSecond: round(cpuMs / (wall / 1000)),
      share: round(cpuMs / wall),
      microsPerRun: round((cpuMs * 1000) / runs),
    },
    eventLoopStallMaxMs: round(eventLoopMax),
    targets: { lagP99Ms: 5, heapBytesPerCheck: 2048 },
    pass: stats.lag.p99 < 5 && (heapAfter - heapBefore) / checks < 2048,
  }),
);

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
