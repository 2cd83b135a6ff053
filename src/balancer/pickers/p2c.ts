/**
 * Power of two choices on outstanding requests (Envoy's least_request with
 * choice_count 2): draw two distinct pickable instances uniformly, take the
 * one with the lower (outstanding + 1) / weight — with equal weights, simply
 * the less loaded. Ties go to the first draw, which is itself random.
 */
import type { Random } from '../../core/random.js';
import type { Instance, Picker, PickerOptions } from '../types.js';
import { Membership } from './membership.js';

/** P2C least-outstanding-requests picker. Call begin(id)/end(id) around each request. */
export class P2cPicker implements Picker {
  protected readonly m: Membership;
  protected readonly random: Random;
  /** Outstanding requests per slot. */
  protected active = new Int32Array(0);

  constructor(instances: readonly Instance[], options: Pick<PickerOptions, 'random' | 'weight'>) {
    this.m = new Membership(options.weight);
    this.random = options.random;
    this.update(instances);
  }

  pick(_key?: string): Instance | undefined {
    const n = this.m.eligibleCount;
    if (n === 0) return undefined;
    const elig = this.m.eligible;
    if (n === 1) return this.m.instances[elig[0]!];
    const i = Math.floor(this.random() * n);
    let j = Math.floor(this.random() * (n - 1));
    if (j >= i) j++;
    const a = elig[i]!;
    const b = elig[j]!;
    const w = this.m.weights;
    const ca = (this.active[a]! + 1) / w[a]!;
    const cb = (this.active[b]! + 1) / w[b]!;
    return this.m.instances[cb < ca ? b : a];
  }

  /** A request to `id` started. Unknown ids are ignored (the instance may have just left). */
  begin(id: string): void {
    const s = this.m.slotOf(id);
    if (s >= 0) this.active[s] = this.active[s]! + 1;
  }

  /** A request to `id` finished (any outcome). Never goes below 0. */
  end(id: string): void {
    const s = this.m.slotOf(id);
    if (s >= 0 && this.active[s]! > 0) this.active[s] = this.active[s]! - 1;
  }

  /** Outstanding requests of `id` (0 if unknown). */
  outstanding(id: string): number {
    const s = this.m.slotOf(id);
    return s >= 0 ? this.active[s]! : 0;
  }

  update(instances: readonly Instance[]): void {
    const oldActive = this.active;
    const previous = this.m.set(instances);
    this.active = new Int32Array(instances.length);
    for (let s = 0; s < previous.length; s++) {
      const p = previous[s]!;
      if (p >= 0) this.active[s] = oldActive[p]!;
    }
    this.carryOver(previous);
  }

  reweight(): void {
    this.m.reweight();
  }

  /** Hook for subclasses with more per-slot state; `previous[newSlot]` = old slot or -1. */
  protected carryOver(_previous: Int32Array): void {}
}
