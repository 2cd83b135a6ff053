/**
 * bench/anomaly-eval: the anomaly detectors on real, labelled service metrics
 * (Numenta Anomaly Benchmark layout: `<dir>/<folder>/<name>.csv` of
 * timestamp,value rows and a windows JSON mapping `"<folder>/<name>.csv"` to
 * `[[start, end], ...]`). The data is not in the repository; point the bench
 * at a copy. Prints one JSON line.
 *
 *   npx tsc -p . && node dist/bench/anomaly-eval.js --data /work/nab-data [--windows FILE] [--split dev|held-out|all] [--check-cli]
 *   (or HEALTHMESH_NAB_DIR=/work/nab-data; --windows defaults to <data>/combined_windows.json)
 *
 * Every file is read with the CLI's own row parser and each detector is fed
 * point by point exactly as `healthmesh analyze --mode anomaly` feeds it
 * (observe(t, value), flag = score ≥ threshold), so a point's score uses only
 * the points before it. `--check-cli` also runs the built CLI on every file
 * and checks that its score column equals the robust detector's here.
 *
 * Two scores per detector:
 * - window F1: a labelled window is found when at least one flag falls in it;
 *   flags outside windows are false positives counted once per cluster (flags
 *   less than CLUSTER_GAP points apart are one alarm);
 * - the NAB score, standard profile (see nabFileScore).
 * Flags in NAB's probationary period (the first 15 % of a file, at most 750
 * rows) count in neither. The robust detector runs at its default flag score.
 * Each baseline is shown three ways: at its own default (|z| ≥ 3), at the one
 * global threshold that maximises each score on the development half (the fair
 * comparison on the held-out half: tuned once, used on files it never saw),
 * and at the best threshold for the very files scored (an oracle, its upper
 * bound). `--split dev` prints the development half only, so that the
 * held-out half can stay unseen while the detector is worked on.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { detectorKinds, type DetectorKind } from '../src/analysis/anomaly/index.js';
import { isRowError, parseTimestamp, RowParser } from '../src/analysis/csv-input.js';

/**
 * Files whose results are only looked at at the end (the detector was never
 * tuned on them); every other file is in the development half.
 */
const HELD_OUT = new Set(['realAWSCloudwatch/elb_request_count_8c0756.csv', 'realAWSCloudwatch/iio_us-east-1_i-a2eb1cd9_NetworkIn.csv']);
/** Outside-window flags closer than this many points belong to one false alarm. */
const CLUSTER_GAP = 12;
/** NAB standard profile (nab/config/profiles.json). */
const PROFILE = { tpWeight: 1, fpWeight: 0.11, fnWeight: 1 };
const PROBATION_PERCENT = 0.15;
const THRESHOLDS = Array.from({ length: 91 }, (_, i) => +(0.1 + i * 0.01).toFixed(2));

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    windows: { type: 'string' },
    split: { type: 'string', default: 'all' },
    'check-cli': { type: 'boolean', default: false },
  },
});

interface LabelledFile {
  name: string;
  t: Float64Array;
  x: Float64Array;
  /** Window bounds, epoch ms, inclusive. */
  windows: Array<[number, number]>;
}

interface Counts {
  tpWindows: number;
  windows: number;
  fpClusters: number;
  /** NAB raw score of the file and the null/perfect detectors' scores on it. */
  nab: number;
  nabNull: number;
  nabPerfect: number;
}

function fail(message: string): never {
  process.stderr.write(`anomaly-eval: ${message}\n`);
  process.exit(2);
}

function csvFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...csvFiles(path));
    else if (entry.endsWith('.csv')) out.push(path);
  }
  return out.sort();
}

/** Rows through the CLI's parser; a bad row is an error here (the data must be clean). */
function readSeries(path: string): { t: Float64Array; x: Float64Array } {
  const lines = readFileSync(path, 'utf8').split('\n');
  const parser = new RowParser();
  const t: number[] = [];
  const x: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    const r = parser.next(lines[i]!, i + 1);
    if (r === null) continue;
    if (isRowError(r)) fail(`${path}:${r.line}: ${r.message}`);
    t.push(r.t);
    x.push(r.value);
  }
  return { t: Float64Array.from(t), x: Float64Array.from(x) };
}

function loadCorpus(dir: string, windowsPath: string): LabelledFile[] {
  let labels: Record<string, Array<[string, string]>>;
  try {
    labels = JSON.parse(readFileSync(windowsPath, 'utf8'));
  } catch (err) {
    fail(`cannot read the windows JSON ${windowsPath}: ${(err as Error).message}`);
  }
  const files: LabelledFile[] = [];
  for (const path of csvFiles(dir)) {
    const name = relative(dir, path).split('\\').join('/');
    const w = labels[name];
    if (!w) continue;
    const windows = w.map(([a, b]) => {
      const start = parseTimestamp(a.replace(/\.\d+$/, ''));
      const end = parseTimestamp(b.replace(/\.\d+$/, ''));
      if (start === null || end === null) fail(`${windowsPath}: ${name}: bad window [${a}, ${b}]`);
      return [start, end] as [number, number];
    });
    files.push({ name, ...readSeries(path), windows });
  }
  return files;
}

/** NAB's probationary period: min(floor(15 % of the rows), 15 % of 5000). */
function probationOf(n: number): number {
  return Math.min(Math.floor(PROBATION_PERCENT * n), PROBATION_PERCENT * 5000);
}

/** Index of the window holding each point, or −1. */
function windowIndex(f: LabelledFile): Int32Array {
  const idx = new Int32Array(f.t.length).fill(-1);
  f.windows.forEach(([a, b], k) => {
    for (let i = 0; i < f.t.length; i++) if (f.t[i]! >= a && f.t[i]! <= b) idx[i] = k;
  });
  return idx;
}

/**
 * NAB scaled sigmoid (nab/sweeper.py, scaledSigmoid): 2·sigmoid(−5y) − 1 for a
 * relative position y (−1 = a window's left edge, 0 = its right edge, > 0 past
 * it), and −1 from y ≥ 3 on.
 */
function scaledSigmoid(y: number): number {
  return y >= 3 ? -1 : 2 / (1 + Math.exp(5 * y)) - 1;
}

/**
 * The NAB score of one file at one threshold, as defined by the Numenta
 * Anomaly Benchmark (Lavin & Ahmad 2015; nab/sweeper.py calcSweepScore and
 * calcScoreByThreshold): points in the probationary period are dropped; a
 * window counts its best (earliest) detection, scaledSigmoid(−(right − i + 1)
 * / width) · tpWeight / scaledSigmoid(−1), or −fnWeight when it has none; every
 * flagged point outside a window costs fpWeight · scaledSigmoid(distance past
 * the previous window's right edge / (that width − 1)), the full fpWeight
 * before the first window. Also returns the null detector's score (every window
 * missed) and the perfect one's (every window found at its first point), which
 * normalise the corpus total to 100 · (S − null) / (perfect − null).
 */
function nabFileScore(f: LabelledFile, inWindow: Int32Array, flags: Uint8Array): { score: number; nullScore: number; perfect: number } {
  const n = f.t.length;
  const probation = probationOf(n);
  const maxTp = scaledSigmoid(-1);
  const best = new Map<number, number>();
  let fp = 0;
  let prevRight = -1;
  let prevWidth = 0;
  let right = -1;
  let width = 0;
  let cur = -1;
  for (let i = 0; i < n; i++) {
    const w = inWindow[i]!;
    if (w !== cur && w >= 0) {
      cur = w;
      let first = i;
      while (first > 0 && inWindow[first - 1] === w) first--;
      right = i;
      while (right + 1 < n && inWindow[right + 1] === w) right++;
      width = right - first + 1;
    }
    const scorable = i >= probation;
    if (w >= 0) {
      if (scorable && !best.has(w)) best.set(w, -PROFILE.fnWeight);
      if (scorable && flags[i]) best.set(w, Math.max(best.get(w)!, (scaledSigmoid(-(right - i + 1) / width) * PROFILE.tpWeight) / maxTp));
      if (i === right) {
        prevRight = right;
        prevWidth = width;
        cur = -1;
      }
    } else if (scorable && flags[i]) {
      const past = prevRight < 0 ? 3 : Math.abs(prevRight - i) / (prevWidth - 1);
      fp += scaledSigmoid(past) * PROFILE.fpWeight;
    }
  }
  let tp = 0;
  for (const v of best.values()) tp += v;
  return { score: tp + fp, nullScore: -PROFILE.fnWeight * best.size, perfect: PROFILE.tpWeight * best.size };
}

function countFile(f: LabelledFile, inWindow: Int32Array, scores: Float64Array, threshold: number): Counts {
  const n = f.t.length;
  const probation = probationOf(n);
  const flags = new Uint8Array(n);
  for (let i = 0; i < n; i++) flags[i] = scores[i]! >= threshold ? 1 : 0;
  const found = new Set<number>();
  const scorableWindows = new Set<number>();
  let fpClusters = 0;
  let lastOutside = Number.NEGATIVE_INFINITY;
  for (let i = probation; i < n; i++) {
    const w = inWindow[i]!;
    if (w >= 0) scorableWindows.add(w);
    if (!flags[i]) continue;
    if (w >= 0) found.add(w);
    else {
      if (i - lastOutside >= CLUSTER_GAP) fpClusters++;
      lastOutside = i;
    }
  }
  const nab = nabFileScore(f, inWindow, flags);
  return { tpWindows: found.size, windows: scorableWindows.size, fpClusters, nab: nab.score, nabNull: nab.nullScore, nabPerfect: nab.perfect };
}

interface Summary {
  threshold: number;
  precision: number;
  recall: number;
  f1: number;
  tpWindows: number;
  windows: number;
  fpClusters: number;
  nab: number;
}

function summarize(counts: Counts[], threshold: number): Summary {
  const sum = (k: keyof Counts): number => counts.reduce((s, c) => s + c[k], 0);
  const tp = sum('tpWindows');
  const windows = sum('windows');
  const fp = sum('fpClusters');
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = windows === 0 ? 0 : tp / windows;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  const nabNull = sum('nabNull');
  const nab = (100 * (sum('nab') - nabNull)) / (sum('nabPerfect') - nabNull);
  const r = (v: number): number => +v.toFixed(3);
  return { threshold, precision: r(precision), recall: r(recall), f1: r(f1), tpWindows: tp, windows, fpClusters: fp, nab: +nab.toFixed(1) };
}

/** Scores of every point of a file through a fresh detector, the CLI's way. */
function scoresOf(kind: DetectorKind, f: LabelledFile): { scores: Float64Array; flagScore: number } {
  const d = detectorKinds[kind]();
  const scores = new Float64Array(f.t.length);
  for (let i = 0; i < f.t.length; i++) scores[i] = d.observe(f.t[i]!, f.x[i]!);
  return { scores, flagScore: d.flagScore };
}

/** Runs the built CLI on a file; returns the number of rows whose score differs from ours (4 decimals, as it prints). */
function cliMismatches(path: string, scores: Float64Array): number {
  const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));
  const run = spawnSync(process.execPath, [cli, 'analyze', '--input', path, '--mode', 'anomaly'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (run.status !== 0) fail(`the CLI failed on ${path}: ${run.stderr}`);
  const rows = run.stdout.trim().split('\n').slice(1);
  if (rows.length !== scores.length) return Math.abs(rows.length - scores.length) || 1;
  let bad = 0;
  rows.forEach((row, i) => {
    if (row.split(',')[2] !== scores[i]!.toFixed(4)) bad++;
  });
  return bad;
}

const dir = values.data ?? process.env.HEALTHMESH_NAB_DIR;
if (!dir) fail('no data: pass --data DIR (or set HEALTHMESH_NAB_DIR) pointing at a copy of the NAB data folders (realKnownCause/, realAWSCloudwatch/, ...)');
let isDir = false;
try {
  isDir = statSync(dir).isDirectory();
} catch {
  isDir = false;
}
if (!isDir) fail(`data directory ${dir} is missing: fetch the NAB CSVs there first (they are not in this repository)`);
const windowsPath = values.windows ?? join(dir, 'combined_windows.json');
const splitArg = values.split;
if (!['dev', 'held-out', 'all'].includes(splitArg)) fail(`--split must be dev, held-out or all, got ${JSON.stringify(splitArg)}`);

const corpus = loadCorpus(dir, windowsPath);
if (corpus.length === 0) fail(`no CSV under ${dir} has windows in ${windowsPath}`);

const splits: Record<string, LabelledFile[]> = {
  dev: corpus.filter((f) => !HELD_OUT.has(f.name)),
  'held-out': corpus.filter((f) => HELD_OUT.has(f.name)),
  all: corpus,
};
const wanted = splitArg === 'all' ? ['dev', 'held-out', 'all'] : [splitArg];
const kinds: DetectorKind[] = ['robust', 'ewma-z', 'windowed-gaussian'];

const inWindow = new Map(corpus.map((f) => [f.name, windowIndex(f)]));
const scores = new Map<string, Map<DetectorKind, Float64Array>>();
const defaults = new Map<DetectorKind, number>();
for (const f of corpus) {
  const byKind = new Map<DetectorKind, Float64Array>();
  for (const k of kinds) {
    const r = scoresOf(k, f);
    byKind.set(k, r.scores);
    defaults.set(k, r.flagScore);
  }
  scores.set(f.name, byKind);
}

const countsAt = (files: LabelledFile[], k: DetectorKind, th: number): Counts[] =>
  files.map((f) => countFile(f, inWindow.get(f.name)!, scores.get(f.name)!.get(k)!, th));
const sweepOf = (files: LabelledFile[], k: DetectorKind): { bestF1: Summary; bestNab: Summary } => {
  const sweep = THRESHOLDS.map((th) => summarize(countsAt(files, k, th), th));
  return { bestF1: sweep.reduce((a, b) => (b.f1 > a.f1 ? b : a)), bestNab: sweep.reduce((a, b) => (b.nab > a.nab ? b : a)) };
};
// Each baseline's one global threshold is chosen on the development half (per score), then used unchanged on every split.
const tunedOnDev = new Map(kinds.map((k) => [k, splits.dev!.length > 0 ? sweepOf(splits.dev!, k) : null]));

const result: Record<string, unknown> = {};
for (const s of wanted) {
  const files = splits[s]!;
  if (files.length === 0) continue;
  const perDetector: Record<string, unknown> = {};
  for (const k of kinds) {
    const atDefault = summarize(countsAt(files, k, defaults.get(k)!), defaults.get(k)!);
    const oracle = sweepOf(files, k);
    const dev = tunedOnDev.get(k);
    const tuned = dev
      ? {
          f1: summarize(countsAt(files, k, dev.bestF1.threshold), dev.bestF1.threshold),
          nab: summarize(countsAt(files, k, dev.bestNab.threshold), dev.bestNab.threshold),
        }
      : null;
    if (k === 'robust') {
      const th = defaults.get(k)!;
      const perFile = Object.fromEntries(files.map((f) => [f.name, summarize(countsAt([f], k, th), th)]));
      // Only atDefault judges the robust detector; the other figures show how well its scores rank.
      perDetector[k] = { atDefault, oracle, perFile };
    } else {
      // tunedOnDev is the fair comparison; oracle (best threshold on this very split) is the baselines' upper bound.
      perDetector[k] = { atDefault, tunedOnDev: tuned, oracle };
    }
  }
  result[s] = { files: files.map((f) => f.name), points: files.reduce((n, f) => n + f.t.length, 0), detectors: perDetector };
}

let cliCheck: Record<string, number> | null = null;
if (values['check-cli']) {
  cliCheck = {};
  for (const f of corpus) if (scores.has(f.name)) cliCheck[f.name] = cliMismatches(join(dir, f.name), scores.get(f.name)!.get('robust')!);
}

process.stdout.write(
  `${JSON.stringify({ bench: 'anomaly-eval', data: dir, windows: windowsPath, clusterGap: CLUSTER_GAP, profile: PROFILE, splits: result, cliMismatchedRows: cliCheck })}\n`,
);
