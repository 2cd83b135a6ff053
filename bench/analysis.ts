/**
 * bench/analysis: the analysis module's costs. Prints one JSON line:
 * - observePerSecond: points per second through one SeriesAnalyzer (Welford,
 *   EWMA, trend buckets, robust anomaly detector), one core, median of
 *   `--repeats` runs of `--points` points (noise on a daily cycle at 10 s);
 * - snapshotMicros: one snapshot (Theil–Sen trend + Holt forecast over 64 buckets), median;
 * - bytesPerSeries: heap per tracked series (20,000 analyzers, each fed 500
 *   points, gc before and after), without and with the quantile sketch;
 * - cli: `healthmesh analyze --mode anomaly` on a `--rows`-row file generated
 *   under the OS temp dir (YYYY-MM-DD HH:MM:SS timestamps): wall time and
 *   peak RSS (/usr/bin/time's maximum resident set size).
 *
 *   npx tsc -p . && node --expose-gc dist/bench/analysis.js [--points 5000000] [--repeats 5] [--rows 10000000] [--skip-cli]
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SeriesAnalyzer } from '../src/analysis/series-analyzer.js';
import { seeded, type Random } from '../src/core/random.js';

const { values } = parseArgs({
  options: {
    points: { type: 'string', default: '5000000' },
    repeats: { type: 'string', default: '5' },
    rows: { type: 'string', default: '10000000' },
    'skip-cli': { type: 'boolean', default: false },
  },
});
const POINTS = Number(values.points);
const REPEATS = Number(values.repeats);
const ROWS = Number(values.rows);
const DAY = 86_400_000;

const gc = (globalThis as { gc?: () => void }).gc;
const heap = (): number => {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
};

function gauss(r: Random): number {
  return Math.sqrt(-2 * Math.log(r() || 1e-12)) * Math.cos(2 * Math.PI * r());
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

// Inputs made up front so the timed loop measures the analyzer only.
const r = seeded(1);
const xs = new Float64Array(1 << 20);
for (let i = 0; i < xs.length; i++) xs[i] = 100 + 20 * Math.sin((2 * Math.PI * ((i * 10_000) % DAY)) / DAY) + 5 * gauss(r);

const rates: number[] = [];
const snapshots: number[] = [];
for (let rep = 0; rep < REPEATS; rep++) {
  const a = new SeriesAnalyzer({ polarity: 'lower_is_better', threshold: 500 });
  const mask = xs.length - 1;
  const started = performance.now();
  for (let i = 0; i < POINTS; i++) a.observe(i * 10_000, xs[i & mask]!);
  rates.push(POINTS / ((performance.now() - started) / 1000));
  const s0 = performance.now();
  for (let k = 0; k < 20; k++) a.snapshot();
  snapshots.push(((performance.now() - s0) / 20) * 1000);
}

function bytesPerSeries(quantiles: boolean): number {
  const n = 20_000;
  const keep: SeriesAnalyzer[] = [];
  const before = heap();
  for (let s = 0; s < n; s++) {
    const a = new SeriesAnalyzer({ polarity: 'lower_is_better', quantiles });
    // Latency-like values spread over two decades, so the sketch grows as it would.
    for (let i = 0; i < 500; i++) a.observe(i * 10_000, Math.exp(3 + 1.2 * gauss(r)));
    keep.push(a);
  }
  const after = heap();
  if (keep.length !== n) throw new Error('unreachable');
  return Math.round((after - before) / n);
}
const perSeries = bytesPerSeries(false);
const perSeriesWithSketch = bytesPerSeries(true);

let cli: Record<string, number | string> | null = null;
if (!values['skip-cli']) {
  const file = join(tmpdir(), `healthmesh-bench-${process.pid}.csv`);
  await new Promise<void>((resolve, reject) => {
    const out = createWriteStream(file);
    out.on('error', reject);
    let i = 0;
    const start = Date.UTC(2020, 0, 1);
    const write = (): void => {
      let ok = true;
      while (i < ROWS && ok) {
        let chunk = i === 0 ? 'timestamp,value\n' : '';
        for (let k = 0; k < 10_000 && i < ROWS; k++, i++) {
          chunk += `${new Date(start + i * 10_000).toISOString().replace('T', ' ').slice(0, 19)},${xs[i & (xs.length - 1)]!.toFixed(3)}\n`;
        }
        ok = out.write(chunk);
      }
      if (i < ROWS) out.once('drain', write);
      else out.end(resolve);
    };
    write();
  });
  const cliPath = fileURLToPath(new URL('../src/cli.js', import.meta.url));
  const started = performance.now();
  const run = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, cliPath, 'analyze', '--input', file, '--mode', 'anomaly'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  const seconds = (performance.now() - started) / 1000;
  const peakKb = Number(run.stderr.trim().split('\n').pop());
  cli = {
    rows: ROWS,
    fileBytes: statSync(file).size,
    exitCode: run.status ?? -1,
    seconds: +seconds.toFixed(2),
    rowsPerSecond: Math.round(ROWS / seconds),
    peakRssMb: +(peakKb / 1024).toFixed(1),
  };
  rmSync(file);
}

process.stdout.write(
  `${JSON.stringify({
    bench: 'analysis',
    node: process.version,
    points: POINTS,
    repeats: REPEATS,
    observePerSecond: Math.round(median(rates)),
    observePerSecondRuns: rates.map(Math.round),
    snapshotMicros: +median(snapshots).toFixed(1),
    bytesPerSeries: perSeries,
    bytesPerSeriesWithSketch: perSeriesWithSketch,
    cli,
  })}\n`,
);
