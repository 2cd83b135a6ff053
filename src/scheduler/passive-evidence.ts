/**
 * Passive evidence: what real traffic says about an instance, told to the
 * engine by whoever watches that traffic (the balancer feed). The engine
 * owns what it does with it, so calls go one way, into the engine:
 *
 * - requests keep succeeding → the instance's checks run `factor` times less
 *   often while they stay HEALTHY and settled (a probe adds little then);
 * - a request failed → back to the normal interval at once (weak evidence:
 *   no extra probe);
 * - the instance's breaker opened → strong evidence: the stretch ends and its
 *   checks run now, at most once per check interval, so a flapping breaker
 *   cannot become a stream of probes.
 */
import type { CheckSpec } from '../core/check.js';
import type { Clock } from '../core/clock.js';
import type { HealthStatus } from '../core/status.js';

/** The port: what a traffic watcher may tell the engine about `service/instance`. */
export interface PassiveEvidence {
  /** Requests keep succeeding: stretch the instance's check intervals by `factor` (1 = none) for a few stretched intervals. */
  succeeding(instanceKey: string, factor: number): void;
  /** A request failed: end any stretch. */
  failed(instanceKey: string): void;
  /** Strong evidence of failure (a breaker opened): end any stretch and run the checks now (rate-limited). */
  suspect(instanceKey: string): void;
}

/** What the evidence book needs from the engine. */
export interface PassiveEvidenceDeps {
  clock: Clock;
  /** The checks of `service/instance`. */
  checksOf(instanceKey: string): Iterable<CheckSpec>;
  /** Run a check as soon as a slot is free. */
  runNow(checkId: string): void;
}

/** How long a stretch earned now lasts, in stretched intervals: renewed by further successes. */
const STRETCHED_INTERVALS = 2;
/** Bound on remembered confirmations; forgetting one costs at most one extra probe. */
const MAX_CONFIRMED = 10_000;

/** The engine's side of the port: stretch per instance, and rate-limited confirmations. */
export class PassiveEvidenceBook implements PassiveEvidence {
  private readonly stretch = new Map<string, { factor: number; until: number }>();
  /** When the checks of an instance were last run on passive evidence, epoch ms. */
  private readonly confirmedAt = new Map<string, number>();

  constructor(private readonly deps: PassiveEvidenceDeps) {}

  succeeding(instanceKey: string, factor: number): void {
    if (factor <= 1) {
      this.stretch.delete(instanceKey);
      return;
    }
    let longest = 0;
    for (const spec of this.deps.checksOf(instanceKey)) longest = Math.max(longest, spec.intervalMs);
    this.stretch.set(instanceKey, { factor, until: this.deps.clock.now() + STRETCHED_INTERVALS * longest * factor });
  }

  failed(instanceKey: string): void {
    this.stretch.delete(instanceKey);
  }

  suspect(instanceKey: string): void {
    this.stretch.delete(instanceKey);
    const specs = [...this.deps.checksOf(instanceKey)];
    const shortest = specs.reduce((min, s) => Math.min(min, s.intervalMs), Infinity);
    const now = this.deps.clock.now();
    const last = this.confirmedAt.get(instanceKey);
    if (last !== undefined && now - last < shortest) return;
    if (this.confirmedAt.size >= MAX_CONFIRMED) this.confirmedAt.clear();
    this.confirmedAt.set(instanceKey, now);
    for (const spec of specs) this.deps.runNow(spec.id);
  }

  /**
   * The interval a check's next run waits: `interval` stretched while its
   * instance earns it, the check is HEALTHY and it runs at its normal
   * interval (not near a transition, not while UNHEALTHY).
   */
  intervalFor(spec: CheckSpec, interval: number, status: HealthStatus): number {
    if (this.stretch.size === 0 || interval !== spec.intervalMs || status !== 'HEALTHY') return interval;
    const key = `${spec.service}/${spec.instance}`;
    const stretch = this.stretch.get(key);
    if (!stretch) return interval;
    if (this.deps.clock.now() >= stretch.until) {
      this.stretch.delete(key);
      return interval;
    }
    return interval * stretch.factor;
  }

  /** Forget an instance whose checks are gone: a stretch is earned again by the next successes. */
  forget(instanceKey: string): void {
    this.stretch.delete(instanceKey);
    this.confirmedAt.delete(instanceKey);
  }
}
