/**
 * Smooth weighted round robin as an earliest-deadline-first schedule, after
 * Envoy's EdfScheduler: an instance of weight w has deadlines 1/w, 2/w, 3/w…;
 * each pick takes the earliest (ties: lower slot first) and moves it to its
 * next deadline. O(log n) per pick with a binary min-heap.
 *
 * Deadlines are computed as (k + 1) / w from a pick count k instead of being
 * accumulated, so equal rational deadlines compare exactly equal and, with
 * integer weights, every run of W = Σw picks starting at a cycle boundary
 * gives each instance exactly w picks.
 *
 * The schedule survives update() and reweight(): an instance whose weight
 * did not change keeps its place; a new one, or one whose weight changed,
 * joins at the current virtual time (the deadline of the latest pick) with
 * k = ⌊now × w⌋. Restarting instead would hand the first picks after every
 * change to the lowest slots, and a balancer that reweights often (slow
 * start, scores) would starve the end of the list.
 */
import type { Instance, Picker, PickerOptions } from '../types.js';
import { Membership } from './membership.js';

/** Earliest-deadline-first weighted round robin. */
export class WrrPicker implements Picker {
  private readonly m: Membership;
  /**
   * Binary min-heap ordered by (deadline, slot), as two parallel arrays: the
   * deadline of the entry at each heap position sits next to its siblings',
   * so a sift reads keys in place instead of following each slot to its
   * deadline elsewhere (5-10 % faster at 10k instances; a 4-ary heap was
   * slower).
   */
  private heapDeadline = new Float64Array(0);
  private heapSlot = new Int32Array(0);
  private heapSize = 0;
  /** Picks so far per slot, in the current weight's units (see the class comment). */
  private count = new Float64Array(0);
  /** Virtual time: the deadline of the latest pick. */
  private now = 0;

  constructor(instances: readonly Instance[], options: Pick<PickerOptions, 'weight'> = {}) {
    this.m = new Membership(options.weight);
    this.update(instances);
  }

  pick(_key?: string): Instance | undefined {
    if (this.heapSize === 0) return undefined;
    const top = this.heapSlot[0]!;
    this.now = this.heapDeadline[0]!;
    const k = this.count[top]! + 1;
    this.count[top] = k;
    this.siftDown(0, top, (k + 1) / this.m.weights[top]!);
    return this.m.instances[top];
  }

  update(instances: readonly Instance[]): void {
    const oldWeights = this.m.weights;
    const oldCount = this.count;
    const previous = this.m.set(instances);
    this.rebuild(previous, oldWeights, oldCount);
  }

  reweight(): void {
    const oldWeights = this.m.weights.slice();
    const oldCount = this.count;
    this.m.reweight();
    const same = new Int32Array(this.m.size);
    for (let s = 0; s < same.length; s++) same[s] = s;
    this.rebuild(same, oldWeights, oldCount);
  }

  /** `previous[slot]`: the slot the same instance had before, or -1. */
  private rebuild(previous: Int32Array, oldWeights: Float64Array, oldCount: Float64Array): void {
    const n = this.m.eligibleCount;
    this.count = new Float64Array(this.m.size);
    this.heapDeadline = new Float64Array(n);
    this.heapSlot = new Int32Array(n);
    this.heapSize = n;
    for (let i = 0; i < n; i++) {
      const s = this.m.eligible[i]!;
      const w = this.m.weights[s]!;
      const p = previous[s]!;
      // Same weight: keep its place. Otherwise join now: the first k with (k + 1) / w > now.
      const k = p >= 0 && oldWeights[p] === w ? oldCount[p]! : Math.floor(this.now * w);
      this.count[s] = k;
      this.heapSlot[i] = s;
      this.heapDeadline[i] = (k + 1) / w;
    }
    for (let i = (n >> 1) - 1; i >= 0; i--) this.siftDown(i, this.heapSlot[i]!, this.heapDeadline[i]!);
  }

  /** Put slot `s` with deadline `d` into the hole at heap position `i`, moving it down past smaller children. */
  private siftDown(i: number, s: number, d: number): void {
    const dl = this.heapDeadline;
    const sl = this.heapSlot;
    const n = this.heapSize;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      let cd = dl[c]!;
      let cs = sl[c]!;
      if (c + 1 < n) {
        const rd = dl[c + 1]!;
        if (rd < cd || (rd === cd && sl[c + 1]! < cs)) {
          c++;
          cd = rd;
          cs = sl[c]!;
        }
      }
      if (cd < d || (cd === d && cs < s)) {
        dl[i] = cd;
        sl[i] = cs;
        i = c;
      } else break;
    }
    dl[i] = d;
    sl[i] = s;
  }
}
