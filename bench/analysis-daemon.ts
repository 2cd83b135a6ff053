/**
 * bench/analysis-daemon: what the daemon's analysis wiring costs
 * (src/wiring/analysis-tracker.ts, analysis-views.ts). Prints one JSON line:
 * - cpuNsPerResult: CPU per check result for the four series updates the
 *   wiring makes (check latency and failure, instance and service score),
 *   minute closes included, over `--minutes` simulated minutes of `--checks`
 *   checks (10 per service, one per instance) with 6 results a minute;
 * - closeMsPerMinute: the minute tick closing every series (one point each
 *   into its analyzer), median;
 * - bytesPerSubjectSeries: heap per tracked series after the run (gc before and after);
 * - serviceAnswerMs: one service's API answer (10 instance trends combined,
 *   forecast, every series' trend and forecast), median.
 *
 *   npx tsc -p . && node --expose-gc dist/bench/analysis-daemon.js [--checks 2000] [--minutes 90]
 */
import { parseArgs } from 'node:util';
import { seeded } from '../src/core/random.js';
import { AnalysisTracker } from '../src/wiring/analysis-tracker.js';
import { answerFor } from '../src/wiring/analysis-views.js';

const { values } = parseArgs({ options: { checks: { type: 'string', default: '2000' }, minutes: { type: 'string', default: '90' } } });
const CHECKS = Number(values.checks);
const MINUTES = Number(values.minutes);
const MIN = 60_000;
const gc = (globalThis as { gc?: () => void }).gc;
const heap = (): number => {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const random = seeded(7);
const before = heap();
const tracker = new AnalysisTracker({ maxSeries: 10 * CHECKS });
const ids = Array.from({ length: CHECKS }, (_, i) => {
  const service = `svc${Math.floor(i / 10)}`;
  const instance = `i${i % 10}`;
  return { service, instance, check: `${service}/${instance}/http`, key: `${service}/${instance}` };
});
const t0 = Date.UTC(2026, 0, 5);
let results = 0;
const closes: number[] = [];
const cpuStart = process.cpuUsage();
for (let m = 0; m < MINUTES; m++) {
  for (let k = 0; k < 6; k++) {
    const at = t0 + m * MIN + k * 10_000;
    for (const c of ids) {
      tracker.add('check', c.check, c.service, c.instance, 'latency_ms', at, 20 + random() * 5);
      tracker.add('check', c.check, c.service, c.instance, 'failure', at, random() < 0.01 ? 1 : 0);
      tracker.add('instance', c.key, c.service, c.instance, 'score', at, 90 + random() * 10);
      tracker.add('service', c.service, c.service, undefined, 'score', at, 95);
      results++;
    }
  }
  const c0 = performance.now();
  tracker.tick(t0 + (m + 1) * MIN);
  closes.push(performance.now() - c0);
}
const cpu = process.cpuUsage(cpuStart);
const after = heap();
const answers: number[] = [];
const noSlo = { now: t0 + MINUTES * MIN, thresholdOf: (s: string) => (s === 'score' ? 50 : undefined), slo: null, sloReason: 'none', maintenance: null };
for (let i = 0; i < 20; i++) {
  const a0 = performance.now();
  answerFor(tracker, 'service', `svc${i}`, 'score', noSlo);
  answers.push(performance.now() - a0);
}
console.log(
  JSON.stringify({
    checks: CHECKS,
    minutes: MINUTES,
    series: tracker.size,
    results,
    cpuNsPerResult: Math.round(((cpu.user + cpu.system) * 1000) / results),
    closeMsPerMinute: Number(median(closes).toFixed(2)),
    bytesPerSubjectSeries: Math.round((after - before) / tracker.size),
    serviceAnswerMs: Number(median(answers).toFixed(2)),
  }),
);
