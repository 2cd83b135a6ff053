import type { Clock, TimerHandle } from '../core/clock.js';

/** Which detector ejected an instance (Envoy's names). */
export type OutlierDetector = 'consecutive_5xx' | 'consecutive_gateway_failure' | 'success_rate' | 'failure_percentage';

/** Success-rate detector settings (Envoy `success_rate_*`). */
export interface SuccessRateConfig {
  /** Instances with enough requests needed before the detector runs. Default 5. */
  minimumHosts?: number;
  /** Requests an instance needs in the interval to be counted. Default 100. */
  requestVolume?: number;
  /** k in mean − k·stdev (Envoy's stdev_factor 1900 is k = 1.9). Default 1.9. */
  stdevFactor?: number;
}

/** Failure-percentage detector settings (Envoy `failure_percentage_*`). */
export interface FailurePercentageConfig {
  /** Eject when an instance's failure percentage (0–100) is ≥ this. Default 85. */
  threshold?: number;
  /** Instances with enough requests needed before the detector runs. Default 5. */
  minimumHosts?: number;
  /** Requests an instance needs in the interval to be counted. Default 50. */
  requestVolume?: number;
}

/** Outlier detection settings; names follow Envoy's `outlier_detection`. */
export interface OutlierConfig {
  /** Time between sweeps (interval detectors, multiplier decay), ms. Default 10 000. */
  intervalMs?: number;
  /** Ejection time per ejection multiplier, ms. Default 30 000. */
  baseEjectionTimeMs?: number;
  /** Cap on one ejection's duration, ms. Default max(300 000, base). */
  maxEjectionTimeMs?: number;
  /**
   * Share of instances (0–100) that may be ejected at once. Default 10.
   * An ejection goes ahead while `ejectedNow / instances × 100 < maxEjectionPercent`
   * (the check counts instances ejected *before* this one), so the effective cap
   * is ceil(instances × percent / 100):
   * - 3 instances, 10 % → 1 may be ejected (0 % < 10 %; then 33 % is not);
   * - 20 instances, 10 % → 2; 25 instances, 10 % → 3; any count, 0 % → none;
   * - 100 % → all.
   */
  maxEjectionPercent?: number;
  /** 5xx responses in a row that eject (gateway errors count too). `false` disables. Default 5. */
  consecutive5xx?: number | false;
  /** 502/503/504 in a row that eject. `false` disables. Default false (Envoy enforces it at 0 %). */
  consecutiveGatewayFailure?: number | false;
  /** `false` disables. Default enabled with the defaults above. */
  successRate?: SuccessRateConfig | false;
  /** `false` disables. Default disabled (Envoy enforces it at 0 %). */
  failurePercentage?: FailurePercentageConfig | false;
  /** Return an ejected instance early when active health checking reports it healthy. Default true (Envoy's default). */
  unejectOnActiveHealthy?: boolean;
}

/** Numbers behind an ejection decision. Percentages are 0–100. */
export type EjectionFigures = Readonly<Record<string, number>>;

/** Answer of {@link OutlierDetection.explain}. */
export interface OutlierExplanation {
  readonly id: string;
  readonly ejected: boolean;
  /** Detector of the current ejection, else of the last one; null if never ejected. */
  readonly detector: OutlierDetector | null;
  /** Figures of that ejection, e.g. { successRate: 40, threshold: 85.3, mean, stdev, stdevFactor, requests }. */
  readonly figures: EjectionFigures | null;
  /** Human sentence built from the figures. */
  readonly reason: string | null;
  /** Times ejected since the instance was added. */
  readonly timesEjected: number;
  /** Current ejection-time multiplier (ejection time = base × multiplier, capped). */
  readonly multiplier: number;
  /** Epoch ms of the current ejection, else null. */
  readonly ejectedAt: number | null;
  /** Epoch ms at which the current ejection ends, else null. */
  readonly returnsAt: number | null;
  /** Last outlier verdict that max_ejection_percent kept from ejecting, if any. */
  readonly suppressed: { readonly detector: OutlierDetector; readonly figures: EjectionFigures; readonly at: number } | null;
}

/** Event delivered to `onChange`. */
export type OutlierChange =
  | {
      readonly type: 'eject';
      readonly id: string;
      readonly detector: OutlierDetector;
      readonly figures: EjectionFigures;
      readonly at: number;
      readonly returnsAt: number;
    }
  | { readonly type: 'uneject'; readonly id: string; readonly cause: 'time' | 'active_healthy' | 'removed'; readonly at: number };

/** Options of {@link OutlierDetection}. */
export interface OutlierDetectionOptions {
  clock: Clock;
  config?: OutlierConfig;
  onChange?: (change: OutlierChange) => void;
}

interface HostMonitor {
  consecutive5xx: number;
  consecutiveGateway: number;
  /** Requests and failures (status ≥ 500) since the last sweep. */
  requests: number;
  failures: number;
  timesEjected: number;
  multiplier: number;
  ejection: { detector: OutlierDetector; figures: EjectionFigures; at: number; returnsAt: number; timer: TimerHandle } | null;
  last: { detector: OutlierDetector; figures: EjectionFigures } | null;
  lastUnejectedAt: number | null;
  suppressed: OutlierExplanation['suppressed'];
}

interface Resolved {
  intervalMs: number;
  baseMs: number;
  maxMs: number;
  maxPercent: number;
  c5xx: number | false;
  cGateway: number | false;
  sr: Required<SuccessRateConfig> | false;
  fp: Required<FailurePercentageConfig> | false;
  unejectOnActiveHealthy: boolean;
}

function resolve(c: OutlierConfig): Resolved {
  const baseMs = c.baseEjectionTimeMs ?? 30_000;
  return {
    intervalMs: c.intervalMs ?? 10_000,
    baseMs,
    maxMs: c.maxEjectionTimeMs ?? Math.max(300_000, baseMs),
    maxPercent: c.maxEjectionPercent ?? 10,
    c5xx: c.consecutive5xx ?? 5,
    cGateway: c.consecutiveGatewayFailure ?? false,
    sr: c.successRate === false ? false : { minimumHosts: 5, requestVolume: 100, stdevFactor: 1.9, ...c.successRate },
    fp: !c.failurePercentage ? false : { threshold: 85, minimumHosts: 5, requestVolume: 50, ...c.failurePercentage },
    unejectOnActiveHealthy: c.unejectOnActiveHealthy ?? true,
  };
}

const isGateway = (status: number): boolean => status === 502 || status === 503 || status === 504;

const fmt = (n: number | undefined): string => (n === undefined ? '?' : String(Math.round(n * 100) / 100));

function describe(detector: OutlierDetector, f: EjectionFigures): string {
  switch (detector) {
    case 'consecutive_5xx':
      return `${f.consecutive} consecutive 5xx responses (threshold ${f.threshold})`;
    case 'consecutive_gateway_failure':
      return `${f.consecutive} consecutive gateway errors 502/503/504 (threshold ${f.threshold})`;
    case 'success_rate':
      return `success rate ${fmt(f.successRate)}% < threshold ${fmt(f.threshold)}% (mean ${fmt(f.mean)}% − ${fmt(f.stdevFactor)} × stdev ${fmt(f.stdev)}, over ${f.hosts} instances; ${f.requests} requests)`;
    case 'failure_percentage':
      return `failure percentage ${fmt(f.failurePercentage)}% ≥ threshold ${fmt(f.threshold)}% (${f.requests} requests)`;
  }
}

/**
 * Passive health checking across the instances of one upstream, as Envoy's
 * outlier detection does it:
 *
 * - consecutive 5xx / gateway errors eject inline, as the responses arrive;
 * - success rate (eject below mean − k·stdev) and failure percentage (eject at
 *   or above a threshold) run every `intervalMs` over the requests counted
 *   since the previous sweep, among instances with `requestVolume` requests,
 *   and only when at least `minimumHosts` such instances exist;
 * - an ejection lasts base × multiplier (capped at maxEjectionTimeMs); the
 *   multiplier grows by one per ejection (until base × multiplier reaches the
 *   cap) and, as in Envoy, shrinks by one on each sweep an instance is in
 *   service and has been for at least one interval;
 * - `maxEjectionPercent` bounds simultaneous ejections (see its doc for the
 *   rounding);
 * - an instance returns when its time is up (a clock timer), or earlier on
 *   `onActiveHealthy(id)` when `unejectOnActiveHealthy` is set.
 *
 * Not modelled: Envoy's `enforcing_*` percentages (all enforce 100 %) and the
 * local-origin split. Call `start()` to arm the sweep timer and `stop()` to
 * clear every timer; `sweep()` runs one sweep by hand.
 */
export class OutlierDetection {
  private readonly clock: Clock;
  private readonly cfg: Resolved;
  private readonly onChange: ((c: OutlierChange) => void) | undefined;
  private readonly hosts = new Map<string, HostMonitor>();
  private sweepTimer: TimerHandle | undefined;
  /** Soonest returnsAt among current ejections (may be stale-early, never late). */
  private earliestReturn = Infinity;

  constructor(opts: OutlierDetectionOptions) {
    this.clock = opts.clock;
    this.cfg = resolve(opts.config ?? {});
    this.onChange = opts.onChange;
    const c = this.cfg;
    if (!(c.intervalMs > 0)) throw new RangeError(`outlier.intervalMs: ${c.intervalMs} must be > 0`);
    if (!(c.baseMs > 0)) throw new RangeError(`outlier.baseEjectionTimeMs: ${c.baseMs} must be > 0`);
    if (!(c.maxPercent >= 0 && c.maxPercent <= 100)) {
      throw new RangeError(`outlier.maxEjectionPercent: ${c.maxPercent} is not in [0, 100]`);
    }
  }

  /** Start watching an instance (no-op if known). The instance count drives max_ejection_percent. */
  addHost(id: string): void {
    if (this.hosts.has(id)) return;
    this.hosts.set(id, {
      consecutive5xx: 0,
      consecutiveGateway: 0,
      requests: 0,
      failures: 0,
      timesEjected: 0,
      multiplier: 0,
      ejection: null,
      last: null,
      lastUnejectedAt: null,
      suppressed: null,
    });
  }

  /** Stop watching an instance; an ejected one is reported as un-ejected ('removed'). */
  removeHost(id: string): void {
    const h = this.hosts.get(id);
    if (!h) return;
    if (h.ejection) this.uneject(id, h, 'removed');
    this.hosts.delete(id);
  }

  /** Instance ids currently watched. */
  hostIds(): string[] {
    return [...this.hosts.keys()];
  }

  /**
   * Record one response of an instance by HTTP status. Map transport failures
   * (connect refused, reset, timeout) to 503, as Envoy does without the
   * local-origin split. Throws on an unknown id (a programming error).
   */
  report(id: string, status: number): void {
    this.expire();
    const h = this.host(id);
    h.requests++;
    if (status >= 500 && status <= 599) {
      h.failures++;
      if (isGateway(status)) h.consecutiveGateway++;
      else h.consecutiveGateway = 0;
      h.consecutive5xx++;
      const now = this.clock.now();
      // Gateway first: a 503 streak that reaches both thresholds is named for the narrower cause.
      if (this.cfg.cGateway !== false && h.consecutiveGateway >= this.cfg.cGateway) {
        const figures = { consecutive: h.consecutiveGateway, threshold: this.cfg.cGateway };
        // Envoy resets the counter either way, so the next ejection needs a fresh streak.
        h.consecutiveGateway = 0;
        if (!h.ejection) this.tryEject(id, h, 'consecutive_gateway_failure', figures, now);
      }
      if (this.cfg.c5xx !== false && h.consecutive5xx >= this.cfg.c5xx) {
        const figures = { consecutive: h.consecutive5xx, threshold: this.cfg.c5xx };
        h.consecutive5xx = 0;
        if (!h.ejection) this.tryEject(id, h, 'consecutive_5xx', figures, now);
      }
    } else {
      h.consecutive5xx = 0;
      h.consecutiveGateway = 0;
    }
  }

  /** Active health checking found the instance healthy; returns it early if configured. */
  onActiveHealthy(id: string): void {
    const h = this.host(id);
    if (h.ejection && this.cfg.unejectOnActiveHealthy) this.uneject(id, h, 'active_healthy');
  }

  /** Whether the instance is ejected now. */
  isEjected(id: string): boolean {
    this.expire();
    return this.host(id).ejection !== null;
  }

  /** Ids of the instances ejected now. */
  ejected(): string[] {
    this.expire();
    return [...this.hosts].filter(([, h]) => h.ejection).map(([id]) => id);
  }

  /** Why the instance is (or last was) ejected, with the numbers behind it. */
  explain(id: string): OutlierExplanation {
    this.expire();
    const h = this.host(id);
    const src = h.ejection ?? h.last;
    return {
      id,
      ejected: h.ejection !== null,
      detector: src?.detector ?? null,
      figures: src?.figures ?? null,
      reason: src ? describe(src.detector, src.figures) : null,
      timesEjected: h.timesEjected,
      multiplier: h.multiplier,
      ejectedAt: h.ejection?.at ?? null,
      returnsAt: h.ejection?.returnsAt ?? null,
      suppressed: h.suppressed,
    };
  }

  /** Arm the sweep timer (every intervalMs). Idempotent. */
  start(): void {
    if (this.sweepTimer !== undefined) return;
    const arm = (): void => {
      this.sweepTimer = this.clock.setTimeout(() => {
        arm();
        this.sweep();
      }, this.cfg.intervalMs);
    };
    arm();
  }

  /** Clear the sweep timer and every ejection timer; ejected instances stay ejected. */
  stop(): void {
    if (this.sweepTimer !== undefined) this.clock.clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    for (const h of this.hosts.values()) if (h.ejection) this.clock.clearTimeout(h.ejection.timer);
  }

  /** One interval sweep: multiplier decay, success-rate and failure-percentage detection, counter reset. */
  sweep(): void {
    this.expire();
    const now = this.clock.now();
    for (const h of this.hosts.values()) {
      if (!h.ejection && h.multiplier > 0 && h.lastUnejectedAt !== null && now - h.lastUnejectedAt >= this.cfg.intervalMs) {
        h.multiplier--;
      }
    }
    const verdicts: Array<{ id: string; h: HostMonitor; detector: OutlierDetector; figures: EjectionFigures }> = [];
    const sr = this.cfg.sr;
    if (sr) {
      const sample = [...this.hosts].filter(([, h]) => !h.ejection && h.requests >= sr.requestVolume);
      if (sample.length >= sr.minimumHosts) {
        const rates = sample.map(([, h]) => (100 * (h.requests - h.failures)) / h.requests);
        const mean = rates.reduce((a, b) => a + b, 0) / rates.length;
        // Population stdev, as Envoy computes it.
        const stdev = Math.sqrt(rates.reduce((a, r) => a + (r - mean) ** 2, 0) / rates.length);
        const threshold = mean - sr.stdevFactor * stdev;
        sample.forEach(([id, h], i) => {
          const rate = rates[i]!;
          if (rate < threshold) {
            verdicts.push({
              id,
              h,
              detector: 'success_rate',
              figures: { successRate: rate, threshold, mean, stdev, stdevFactor: sr.stdevFactor, requests: h.requests, hosts: sample.length },
            });
          }
        });
      }
    }
    const fp = this.cfg.fp;
    if (fp) {
      const sample = [...this.hosts].filter(([, h]) => !h.ejection && h.requests >= fp.requestVolume);
      if (sample.length >= fp.minimumHosts) {
        for (const [id, h] of sample) {
          const pct = (100 * h.failures) / h.requests;
          if (pct >= fp.threshold && !verdicts.some((v) => v.id === id)) {
            verdicts.push({
              id,
              h,
              detector: 'failure_percentage',
              figures: { failurePercentage: pct, threshold: fp.threshold, requests: h.requests, hosts: sample.length },
            });
          }
        }
      }
    }
    // Worst first, so that when max_ejection_percent bites the clearest outliers go.
    const badness = (v: (typeof verdicts)[number]): number => v.h.failures / v.h.requests;
    verdicts.sort((a, b) => badness(b) - badness(a));
    for (const v of verdicts) this.tryEject(v.id, v.h, v.detector, v.figures, now);
    for (const h of this.hosts.values()) {
      h.requests = 0;
      h.failures = 0;
    }
  }

  /** Return instances whose time is up even if their timer was cleared by stop() or has not fired yet. */
  private expire(): void {
    // Called on every report: O(1) until some ejection is due.
    const now = this.clock.now();
    if (now < this.earliestReturn) return;
    let earliest = Infinity;
    for (const [id, h] of this.hosts) {
      if (!h.ejection) continue;
      if (now >= h.ejection.returnsAt) this.uneject(id, h, 'time');
      else if (h.ejection.returnsAt < earliest) earliest = h.ejection.returnsAt;
    }
    this.earliestReturn = earliest;
  }

  private host(id: string): HostMonitor {
    const h = this.hosts.get(id);
    if (!h) throw new Error(`outlier detection: unknown instance "${id}" (call addHost first)`);
    return h;
  }

  private tryEject(id: string, h: HostMonitor, detector: OutlierDetector, figures: EjectionFigures, now: number): void {
    let ejectedNow = 0;
    for (const other of this.hosts.values()) if (other.ejection) ejectedNow++;
    if ((100 * ejectedNow) / this.hosts.size >= this.cfg.maxPercent) {
      h.suppressed = { detector, figures: { ...figures, ejectedNow, instances: this.hosts.size, maxEjectionPercent: this.cfg.maxPercent }, at: now };
      return;
    }
    if (this.cfg.baseMs * h.multiplier < this.cfg.maxMs) h.multiplier++;
    h.timesEjected++;
    const durationMs = Math.min(this.cfg.baseMs * h.multiplier, this.cfg.maxMs);
    const returnsAt = now + durationMs;
    const timer = this.clock.setTimeout(() => {
      if (h.ejection && h.ejection.at === now && this.hosts.get(id) === h) this.uneject(id, h, 'time');
    }, durationMs);
    const full = { ...figures, ejectionTimeMs: durationMs };
    h.ejection = { detector, figures: full, at: now, returnsAt, timer };
    if (returnsAt < this.earliestReturn) this.earliestReturn = returnsAt;
    h.last = { detector, figures: full };
    h.consecutive5xx = 0;
    h.consecutiveGateway = 0;
    this.onChange?.({ type: 'eject', id, detector, figures: full, at: now, returnsAt });
  }

  private uneject(id: string, h: HostMonitor, cause: 'time' | 'active_healthy' | 'removed'): void {
    if (!h.ejection) return;
    this.clock.clearTimeout(h.ejection.timer);
    h.ejection = null;
    const now = this.clock.now();
    h.lastUnejectedAt = now;
    h.consecutive5xx = 0;
    h.consecutiveGateway = 0;
    this.onChange?.({ type: 'uneject', id, cause, at: now });
  }
}
