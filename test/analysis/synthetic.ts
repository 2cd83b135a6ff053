/**
 * Synthetic series for the detector tests: noise around a level, optional
 * daily seasonality, and injected anomalies, each with the window of points
 * in which flagging it counts as found. Seeded, so every run is the same.
 */
import { seeded, type Random } from '../../src/core/random.js';

export type AnomalyCase = 'clean' | 'spikes' | 'level-shift' | 'variance' | 'drift';

export interface Series {
  t: Float64Array;
  x: Float64Array;
  /** Labelled windows [start, end) of point indices. */
  windows: Array<[number, number]>;
}

export interface SeriesSpec {
  kind: AnomalyCase;
  seed: number;
  /** Points (default 14 days at 5 minutes). */
  n?: number;
  stepMs?: number;
  /** Amplitude of a daily sine, in noise σ (default 0: none). */
  daily?: number;
  /** Noise σ (default 1; level 100). */
  sigma?: number;
}

/** A standard normal draw (Box–Muller). */
export function gauss(r: Random): number {
  let u = 0;
  while (u === 0) u = r();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

const DAY = 86_400_000;

export function makeSeries(spec: SeriesSpec): Series {
  const r = seeded(spec.seed);
  const n = spec.n ?? 4032;
  const step = spec.stepMs ?? 300_000;
  const sigma = spec.sigma ?? 1;
  const amp = (spec.daily ?? 0) * sigma;
  const t = new Float64Array(n);
  const x = new Float64Array(n);
  const noiseScale = new Float64Array(n).fill(1);
  const add = new Float64Array(n);
  const windows: Array<[number, number]> = [];
  // Anomalies go after a three-day warm-up (long enough for the seasonal profile).
  const start = probationOf(step);
  const slot = (k: number, count: number): number => start + Math.floor(((n - start) * (k + 0.25 + 0.5 * r())) / count);
  switch (spec.kind) {
    case 'spikes': {
      for (let k = 0; k < 8; k++) {
        const i = slot(k, 8);
        add[i] = (r() < 0.5 ? -1 : 1) * (7 + 4 * r()) * sigma;
        windows.push([i, i + 3]);
      }
      break;
    }
    case 'level-shift': {
      for (let k = 0; k < 3; k++) {
        const i = slot(k, 3);
        const len = 150;
        const size = (r() < 0.5 ? -1 : 1) * (5 + 3 * r()) * sigma;
        for (let j = i; j < Math.min(n, i + len); j++) add[j] = size;
        // The shifted stretch is anomalous until the baseline has moved to it (half the 64-point window), both ways.
        windows.push([i, i + 40], [i + len, i + len + 40]);
      }
      break;
    }
    case 'variance': {
      for (let k = 0; k < 3; k++) {
        const i = slot(k, 3);
        for (let j = i; j < Math.min(n, i + 200); j++) noiseScale[j] = 4;
        windows.push([i, i + 200 + 40]);
      }
      break;
    }
    case 'drift': {
      for (let k = 0; k < 2; k++) {
        const i = slot(k, 2);
        const len = 300;
        // A ramp of 12σ over 300 points that stays, the way a leak grows.
        for (let j = i; j < n; j++) add[j]! += 12 * sigma * Math.min(1, (j - i) / len);
        windows.push([i, i + len + 64]);
      }
      break;
    }
    case 'clean':
      break;
  }
  for (let i = 0; i < n; i++) {
    t[i] = 1_700_000_000_000 - (1_700_000_000_000 % DAY) + i * step;
    const season = amp * Math.sin((2 * Math.PI * (t[i]! % DAY)) / DAY);
    x[i] = 100 + season + add[i]! + sigma * noiseScale[i]! * gauss(r);
  }
  return { t, x, windows };
}

/** Index of the first point after the three-day warm-up at this step. */
export function probationOf(stepMs = 300_000): number {
  return Math.floor((3 * DAY) / stepMs);
}

export interface Detection {
  /** Flagged points inside a labelled window, over all flagged points (1 when nothing was flagged). */
  precision: number;
  /** Windows with at least one flagged point, over all windows (1 when there is none). */
  recall: number;
  flags: number;
  n: number;
}

/**
 * Score flags (one per point) against the labelled windows. Flags before
 * `probation` (index) do not count: a detector is still learning the series
 * there (the Numenta benchmark skips its first 15 % the same way).
 */
export function detection(flags: ArrayLike<boolean>, windows: ReadonlyArray<[number, number]>, probation = 0): Detection {
  let inside = 0;
  let total = 0;
  const inWindow = new Uint8Array(flags.length);
  for (const [a, b] of windows) for (let i = a; i < Math.min(b, flags.length); i++) inWindow[i] = 1;
  for (let i = probation; i < flags.length; i++) {
    if (!flags[i]) continue;
    total++;
    if (inWindow[i]) inside++;
  }
  let found = 0;
  for (const [a, b] of windows) {
    for (let i = a; i < Math.min(b, flags.length); i++) {
      if (flags[i]) {
        found++;
        break;
      }
    }
  }
  return { precision: total === 0 ? 1 : inside / total, recall: windows.length === 0 ? 1 : found / windows.length, flags: total, n: flags.length - probation };
}
