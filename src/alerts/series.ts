/**
 * Recent samples of named numeric series, per subject, kept as long as the
 * longest window any rule reads for that series (and at most MAX_SAMPLES per
 * subject, oldest dropped). Shared by every rule: one copy of each sample.
 */
import type { Subject } from './input.js';

/** Most samples kept per series and subject (bounds memory whatever the rate). */
export const MAX_SAMPLES = 4096;

interface Ring {
  at: number[];
  value: number[];
  /** Index of the oldest kept sample. */
  head: number;
}

/** The key of a subject: checkId, service/instance or service. */
export function subjectKey(subject: Subject): string {
  if ('checkId' in subject) return subject.checkId;
  return subject.instance ? `${subject.service}/${subject.instance}` : subject.service;
}

/** Sliding windows of samples, per series and subject. */
export class SeriesWindows {
  private readonly rings = new Map<string, Map<string, Ring>>();
  private readonly keepMs = new Map<string, number>();

  /** Keep `series` for at least `windowMs` (the longest window asked wins). */
  need(series: string, windowMs: number): void {
    this.keepMs.set(series, Math.max(this.keepMs.get(series) ?? 0, windowMs));
  }

  /** Whether any rule reads `series` (unread series are not stored). */
  wanted(series: string): boolean {
    return this.keepMs.has(series);
  }

  /** Add a sample at `at` (epoch ms); drops samples older than the longest window. */
  add(series: string, key: string, at: number, value: number): void {
    const keep = this.keepMs.get(series);
    if (keep === undefined) return;
    let bySubject = this.rings.get(series);
    if (!bySubject) {
      bySubject = new Map();
      this.rings.set(series, bySubject);
    }
    let ring = bySubject.get(key);
    if (!ring) {
      ring = { at: [], value: [], head: 0 };
      bySubject.set(key, ring);
    }
    ring.at.push(at);
    ring.value.push(value);
    const horizon = at - keep;
    while (ring.head < ring.at.length && (ring.at[ring.head]! < horizon || ring.at.length - ring.head > MAX_SAMPLES)) ring.head++;
    // Compact once the dropped prefix is half the arrays, so pushes stay amortised O(1).
    if (ring.head > 64 && ring.head * 2 > ring.at.length) {
      ring.at = ring.at.slice(ring.head);
      ring.value = ring.value.slice(ring.head);
      ring.head = 0;
    }
  }

  /** Values of samples with at ≥ since, oldest first. */
  values(series: string, key: string, since: number): Array<{ at: number; value: number }> {
    const ring = this.rings.get(series)?.get(key);
    if (!ring) return [];
    const out: Array<{ at: number; value: number }> = [];
    for (let i = ring.head; i < ring.at.length; i++) if (ring.at[i]! >= since) out.push({ at: ring.at[i]!, value: ring.value[i]! });
    return out;
  }

  /** Forget a subject (check removed). */
  drop(key: string): void {
    for (const bySubject of this.rings.values()) bySubject.delete(key);
  }
}

/** Aggregate of a window: avg, min, max, p50/p90/p95/p99 (nearest rank), last, rate (sum per second of the window), count. */
export function aggregate(samples: ReadonlyArray<{ value: number }>, agg: string, windowMs: number): { value: number | null; count: number } {
  const count = samples.length;
  if (agg === 'count') return { value: count, count };
  if (count === 0) return { value: null, count };
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const s of samples) {
    sum += s.value;
    if (s.value < min) min = s.value;
    if (s.value > max) max = s.value;
  }
  switch (agg) {
    case 'avg':
      return { value: sum / count, count };
    case 'min':
      return { value: min, count };
    case 'max':
      return { value: max, count };
    case 'last':
      return { value: samples[count - 1]!.value, count };
    case 'rate':
      return { value: sum / (windowMs / 1000), count };
    default: {
      const q = Number(agg.slice(1)) / 100;
      const sorted = samples.map((s) => s.value).sort((a, b) => a - b);
      return { value: sorted[Math.max(0, Math.ceil(q * count) - 1)]!, count };
    }
  }
}
