/**
 * The daemon's analyzers: one SeriesAnalyzer per series of each check
 * (latency_ms, failure, and the readings of a `system` check), instance
 * (score) and service (score), fed with one point per minute: the mean of
 * the minute's results, as the store's minute rollups hold it. Live points
 * and the warm-up from stored rollups are then the same kind of point, so a
 * restart neither forgets the baseline nor sees the switch from rollups to
 * live data as an anomaly.
 *
 * Memory is bounded: at most `maxSeries` analyzers (about 3.3 KB each);
 * series past the cap are not tracked and counted in `refused`.
 * A minute closes on the tracker's tick (each minute) or when a later point
 * of the same series arrives, whichever comes first.
 */
import { SeriesAnalyzer } from '../analysis/series-analyzer.js';
import type { Polarity } from '../analysis/trend.js';

const MINUTE = 60_000;
/** Series closed per event-loop turn by the minute tick (about 1.5 ms of work). */
const TICK_SLICE = 1_000;

/** What a series is about. */
export type SubjectLevel = 'check' | 'instance' | 'service';

/** One stored minute of a subject, as the warm-up reads it from rollups: series → value. */
export interface WarmPoint {
  /** Bucket start, epoch ms. */
  start: number;
  values: Readonly<Record<string, number>>;
}

/** A series being tracked. */
export interface TrackedSeries {
  readonly subject: TrackedSubject;
  /** latency_ms, failure, score, or a system reading (cpu_percent, …). */
  readonly name: string;
  readonly analyzer: SeriesAnalyzer;
  /** The minute in progress: bucket number (floor(t / 60 s)), sum and count of its values. */
  bucket: number;
  sum: number;
  count: number;
}

/** A check, an instance or a service and its series. */
export interface TrackedSubject {
  readonly level: SubjectLevel;
  /** check id, service/instance, or service. */
  readonly key: string;
  readonly service: string;
  readonly instance?: string;
  readonly series: Map<string, TrackedSeries>;
  /** Minutes closed while the warm-up was reading the store, fed after it (bounded). */
  pending: Array<{ series: TrackedSeries; t: number; value: number }> | null;
}

/** A flagged point, kept per service for the API (the newest RECENT_ANOMALIES). */
export interface RecentAnomaly {
  at: number;
  score: number;
  value: number;
  level: SubjectLevel;
  subject: string;
  series: string;
}

export interface TrackerOptions {
  /** Most series tracked (default 20,000: about 66 MB of analyzers). */
  maxSeries?: number;
  /** Reads the stored minutes of a subject in [from, to); none: no warm-up. */
  warm?: (subject: TrackedSubject, from: number, to: number) => Promise<readonly WarmPoint[]>;
  /** How far back the warm-up reads (default 3 h: the trend's hour and the anomaly window several times over). */
  warmupMs?: number;
  /** Warm-ups reading the store at once (default 2). */
  warmConcurrency?: number;
  /** Hears every minute fed to an analyzer (live or warm-up), after it was learned. */
  onPoint?: (series: TrackedSeries, t: number, value: number, warm: boolean) => void;
  /** A warm-up failed (the series starts cold). */
  onWarmError?: (subject: TrackedSubject, err: unknown) => void;
}

/** Newest flagged points kept per service. */
export const RECENT_ANOMALIES = 20;
/** Minutes held per subject while its warm-up runs; older ones are dropped. */
const MAX_PENDING = 256;

/** Whether a rising value of a series is good. */
export function polarityOf(series: string): Polarity {
  return series === 'score' ? 'higher_is_better' : 'lower_is_better';
}

/** Analyzers per check, instance and service, fed one point a minute. */
export class AnalysisTracker {
  /** Subjects per level, by key (no key built per point). */
  private readonly subjects: Record<SubjectLevel, Map<string, TrackedSubject>> = { check: new Map(), instance: new Map(), service: new Map() };
  private readonly byService = new Map<string, Set<TrackedSubject>>();
  private readonly anomalies = new Map<string, RecentAnomaly[]>();
  private readonly maxSeries: number;
  private seriesCount = 0;
  private readonly warmQueue: Array<{ subject: TrackedSubject; to: number }> = [];
  private warming = 0;
  private idleWaiters: Array<() => void> = [];
  private stopped = false;
  /** Series not tracked because of the cap. */
  refused = 0;

  constructor(private readonly options: TrackerOptions = {}) {
    this.maxSeries = options.maxSeries ?? 20_000;
  }

  /** Add a value of a series at `t` (epoch ms); false when the series is not tracked (cap) or the point is older than its minute. */
  add(level: SubjectLevel, key: string, service: string, instance: string | undefined, name: string, t: number, value: number): boolean {
    if (!Number.isFinite(value) || !Number.isFinite(t)) return false;
    const subject = this.subject(level, key, service, instance, t);
    let series = subject.series.get(name);
    if (!series) {
      if (this.seriesCount >= this.maxSeries) {
        this.refused++;
        return false;
      }
      series = { subject, name, analyzer: new SeriesAnalyzer({ polarity: polarityOf(name) }), bucket: Math.floor(t / MINUTE), sum: 0, count: 0 };
      subject.series.set(name, series);
      this.seriesCount++;
    }
    const bucket = Math.floor(t / MINUTE);
    if (bucket < series.bucket) return false;
    if (bucket > series.bucket) this.close(series, bucket);
    series.sum += value;
    series.count++;
    return true;
  }

  /**
   * Close every minute that ended before `now` (the minute tick), yielding
   * to the event loop every TICK_SLICE series: closing 20,000 series (10,000
   * checks) in one go held the loop 31 ms each minute, now 3 ms. A series that
   * gets a point meanwhile closes its minute itself (add).
   */
  async tick(now: number): Promise<void> {
    const bucket = Math.floor(now / MINUTE);
    let seen = 0;
    for (const level of Object.values(this.subjects))
      for (const subject of level.values())
        for (const series of subject.series.values()) {
          if (series.bucket < bucket) this.close(series, bucket);
          if (++seen % TICK_SLICE === 0) await new Promise<void>((resolve) => setImmediate(resolve));
        }
  }

  /** A subject's series, or undefined. */
  get(level: SubjectLevel, key: string): TrackedSubject | undefined {
    return this.subjects[level].get(key);
  }

  /** Subjects of a service (its checks, instances and itself). */
  ofService(service: string): Iterable<TrackedSubject> {
    return this.byService.get(service) ?? [];
  }

  /** Services with a tracked subject. */
  services(): Iterable<string> {
    return this.byService.keys();
  }

  /** The newest flagged points of a service's series, newest first. */
  recentAnomalies(service: string): readonly RecentAnomaly[] {
    return [...(this.anomalies.get(service) ?? [])].reverse();
  }

  /** Forget a subject (its check, instance or service is gone). */
  remove(level: SubjectLevel, key: string): void {
    const subject = this.subjects[level].get(key);
    if (!subject) return;
    this.subjects[level].delete(key);
    this.seriesCount -= subject.series.size;
    const set = this.byService.get(subject.service);
    set?.delete(subject);
    if (set?.size === 0) {
      this.byService.delete(subject.service);
      this.anomalies.delete(subject.service);
    }
  }

  /** Subjects tracked now. */
  subjectsOf(level: SubjectLevel): TrackedSubject[] {
    return [...this.subjects[level].values()];
  }

  /** Series tracked now. */
  get size(): number {
    return this.seriesCount;
  }

  /** Resolves once no warm-up is queued or running (tests, shutdown). */
  idle(): Promise<void> {
    if (this.warming === 0 && this.warmQueue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stop warming (queued warm-ups are dropped). */
  stop(): void {
    this.stopped = true;
    this.warmQueue.length = 0;
  }

  private subject(level: SubjectLevel, key: string, service: string, instance: string | undefined, t: number): TrackedSubject {
    let subject = this.subjects[level].get(key);
    if (subject) return subject;
    subject = { level, key, service, ...(instance !== undefined ? { instance } : {}), series: new Map(), pending: null };
    this.subjects[level].set(key, subject);
    let set = this.byService.get(service);
    if (!set) {
      set = new Set();
      this.byService.set(service, set);
    }
    set.add(subject);
    if (this.options.warm && !this.stopped) {
      subject.pending = [];
      this.warmQueue.push({ subject, to: Math.floor(t / MINUTE) * MINUTE });
      this.pump();
    }
    return subject;
  }

  private close(series: TrackedSeries, next: number): void {
    if (series.count > 0) {
      const t = series.bucket * MINUTE + MINUTE / 2;
      const value = series.sum / series.count;
      const pending = series.subject.pending;
      if (pending) {
        pending.push({ series, t, value });
        if (pending.length > MAX_PENDING) pending.shift();
      } else this.feed(series, t, value, false);
    }
    series.bucket = next;
    series.sum = 0;
    series.count = 0;
  }

  private feed(series: TrackedSeries, t: number, value: number, warm: boolean): void {
    if (!series.analyzer.observe(t, value)) return;
    const a = series.analyzer.anomaly();
    if (a.anomaly && !warm) {
      let list = this.anomalies.get(series.subject.service);
      if (!list) {
        list = [];
        this.anomalies.set(series.subject.service, list);
      }
      list.push({ at: t, score: a.score, value, level: series.subject.level, subject: series.subject.key, series: series.name });
      if (list.length > RECENT_ANOMALIES) list.shift();
    }
    this.options.onPoint?.(series, t, value, warm);
  }

  private pump(): void {
    const warm = this.options.warm;
    if (!warm) return;
    while (this.warming < (this.options.warmConcurrency ?? 2) && this.warmQueue.length > 0) {
      const { subject, to } = this.warmQueue.shift()!;
      this.warming++;
      const from = to - (this.options.warmupMs ?? 3 * 3_600_000);
      warm(subject, from, to)
        .then((points) => this.warmed(subject, points))
        .catch((err: unknown) => {
          this.options.onWarmError?.(subject, err);
          this.warmed(subject, []);
        })
        .finally(() => {
          this.warming--;
          this.pump();
          if (this.warming === 0 && this.warmQueue.length === 0) for (const w of this.idleWaiters.splice(0)) w();
        });
    }
  }

  private warmed(subject: TrackedSubject, points: readonly WarmPoint[]): void {
    const pending = subject.pending ?? [];
    subject.pending = null;
    if (this.subjects[subject.level].get(subject.key) !== subject) return; // removed meanwhile
    for (const p of [...points].sort((a, b) => a.start - b.start)) {
      for (const [name, value] of Object.entries(p.values)) {
        const series = subject.series.get(name) ?? this.newSeries(subject, name, p.start);
        if (series) this.feed(series, p.start + MINUTE / 2, value, true);
      }
    }
    for (const p of pending) this.feed(p.series, p.t, p.value, false);
  }

  private newSeries(subject: TrackedSubject, name: string, t: number): TrackedSeries | undefined {
    if (this.seriesCount >= this.maxSeries) {
      this.refused++;
      return undefined;
    }
    const series: TrackedSeries = {
      subject,
      name,
      analyzer: new SeriesAnalyzer({ polarity: polarityOf(name) }),
      bucket: Math.floor(t / MINUTE),
      sum: 0,
      count: 0,
    };
    subject.series.set(name, series);
    this.seriesCount++;
    return series;
  }
}
