/**
 * Least latency: power of two choices over a peak-sensitive EWMA of observed
 * latency (Finagle's / linkerd's "peak EWMA"). A sample above the estimate
 * replaces it at once (react to slowness immediately); a sample below is
 * blended in with a time-based weight exp(-Δt/τ). At pick time the estimate
 * decays towards 0 with the time since the last sample, so an instance that
 * stopped getting traffic because it was slow is eventually retried. "Now"
 * at pick time is the clock reading of the latest observe() of any instance,
 * so pick() reads no clock (a real clock call boxes a double per pick).
 * Cost = estimate × (outstanding + 1) / weight; the lower cost of two
 * uniform draws wins.
 */
import type { Clock } from '../../core/clock.js';
import type { Instance, PickerOptions } from '../types.js';
import { P2cPicker } from './p2c.js';

/** Knobs of the least-latency picker. */
export interface LeastLatencyOptions extends PickerOptions {
  /** Decay time constant τ in ms (default 10 000, as linkerd). */
  decayMs?: number;
  /** Estimate for an instance with no sample yet, in ms (default 30, as linkerd's default RTT). */
  initialMs?: number;
}

/** P2C over peak EWMA latency. Call begin/end around requests and observe(id, ms) on completion. */
export class LeastLatencyPicker extends P2cPicker {
  private readonly clock: Clock;
  private readonly decayMs: number;
  private readonly initialMs: number;
  /** Latency estimate per slot, ms. */
  private ewma = new Float64Array(0);
  /** Clock time of the last sample per slot, ms. */
  private stamp = new Float64Array(0);
  /** Clock time of the latest observe() of any instance, ms. */
  private lastNow = 0;

  constructor(instances: readonly Instance[], options: LeastLatencyOptions) {
    super(instances, options);
    this.clock = options.clock;
    this.decayMs = options.decayMs ?? 10_000;
    this.initialMs = options.initialMs ?? 30;
    // super() ran update() before these fields existed; seed every slot now.
    const now = this.clock.now();
    this.lastNow = now;
    this.ewma = new Float64Array(this.m.size).fill(this.initialMs);
    this.stamp = new Float64Array(this.m.size).fill(now);
  }

  override pick(_key?: string): Instance | undefined {
    const n = this.m.eligibleCount;
    if (n === 0) return undefined;
    const elig = this.m.eligible;
    if (n === 1) return this.m.instances[elig[0]!];
    const i = Math.floor(this.random() * n);
    let j = Math.floor(this.random() * (n - 1));
    if (j >= i) j++;
    const a = elig[i]!;
    const b = elig[j]!;
    const now = this.lastNow;
    const ca = this.cost(a, now);
    const cb = this.cost(b, now);
    return this.m.instances[cb < ca ? b : a];
  }

  /** Record the latency of a finished request to `id`, in ms. Unknown ids are ignored. */
  observe(id: string, ms: number): void {
    const s = this.m.slotOf(id);
    if (s < 0 || !(ms >= 0)) return;
    const now = this.clock.now();
    if (now > this.lastNow) this.lastNow = now;
    const prev = this.ewma[s]!;
    if (ms > prev) {
      this.ewma[s] = ms;
    } else {
      const keep = Math.exp(-Math.max(0, now - this.stamp[s]!) / this.decayMs);
      this.ewma[s] = prev * keep + ms * (1 - keep);
    }
    this.stamp[s] = now;
  }

  /** Current latency estimate of `id` in ms (decayed to now), or undefined if unknown. */
  estimate(id: string): number | undefined {
    const s = this.m.slotOf(id);
    if (s < 0) return undefined;
    return this.ewma[s]! * Math.exp(-Math.max(0, this.clock.now() - this.stamp[s]!) / this.decayMs);
  }

  private cost(s: number, now: number): number {
    const age = now - this.stamp[s]!;
    const est = age > 0 ? this.ewma[s]! * Math.exp(-age / this.decayMs) : this.ewma[s]!;
    return (est * (this.active[s]! + 1)) / this.m.weights[s]!;
  }

  protected override carryOver(previous: Int32Array): void {
    // Called from the super constructor before field initialisers have run.
    if (this.clock === undefined) return;
    const now = this.clock.now();
    const ewma = new Float64Array(previous.length).fill(this.initialMs);
    const stamp = new Float64Array(previous.length).fill(now);
    for (let s = 0; s < previous.length; s++) {
      const p = previous[s]!;
      if (p >= 0) {
        ewma[s] = this.ewma[p]!;
        stamp[s] = this.stamp[p]!;
      }
    }
    this.ewma = ewma;
    this.stamp = stamp;
  }
}
