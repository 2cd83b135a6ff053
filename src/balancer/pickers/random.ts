/**
 * Weighted random picker with Vose's alias method: O(n) build, O(1) pick,
 * one call to the injected Random per pick.
 */
import type { Random } from '../../core/random.js';
import type { Instance, Picker, PickerOptions } from '../types.js';
import { Membership } from './membership.js';

/** Weighted random choice (alias method). */
export class RandomPicker implements Picker {
  private readonly m: Membership;
  private readonly random: Random;
  /** Probability of keeping column i (else take alias[i]), per eligible column. */
  private prob = new Float64Array(0);
  /** Alias slot per column. */
  private alias = new Int32Array(0);
  /** Slot of each column. */
  private column = new Int32Array(0);
  private n = 0;

  constructor(instances: readonly Instance[], options: Pick<PickerOptions, 'random' | 'weight'>) {
    this.m = new Membership(options.weight);
    this.random = options.random;
    this.update(instances);
  }

  pick(_key?: string): Instance | undefined {
    const n = this.n;
    if (n === 0) return undefined;
    const r = this.random() * n;
    const i = Math.floor(r);
    const slot = r - i < this.prob[i]! ? this.column[i]! : this.alias[i]!;
    return this.m.instances[slot];
  }

  update(instances: readonly Instance[]): void {
    this.m.set(instances);
    this.build();
  }

  reweight(): void {
    this.m.reweight();
    this.build();
  }

  private build(): void {
    const n = this.m.eligibleCount;
    this.n = n;
    this.prob = new Float64Array(n);
    this.alias = new Int32Array(n);
    this.column = this.m.eligible.slice(0, n);
    if (n === 0) return;
    const scaled = new Float64Array(n);
    const small = new Int32Array(n);
    const large = new Int32Array(n);
    let ns = 0;
    let nl = 0;
    for (let i = 0; i < n; i++) {
      scaled[i] = (this.m.weights[this.column[i]!]! * n) / this.m.totalWeight;
      if (scaled[i]! < 1) small[ns++] = i;
      else large[nl++] = i;
    }
    while (ns > 0 && nl > 0) {
      const s = small[--ns]!;
      const l = large[--nl]!;
      this.prob[s] = scaled[s]!;
      this.alias[s] = this.column[l]!;
      scaled[l] = scaled[l]! + scaled[s]! - 1;
      if (scaled[l]! < 1) small[ns++] = l;
      else large[nl++] = l;
    }
    // Leftovers are 1 up to rounding error.
    while (nl > 0) this.prob[large[--nl]!] = 1;
    while (ns > 0) this.prob[small[--ns]!] = 1;
  }
}
