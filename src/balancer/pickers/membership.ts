/**
 * Slot bookkeeping shared by the pickers: instances live at integer slots so
 * per-instance state sits in typed arrays and the hot path touches no Map
 * and no object other than the returned Instance.
 */
import type { Instance, WeightFn } from '../types.js';

const configuredWeight: WeightFn = (i) => i.weight;

/** Sanitised effective weight: non-finite or negative counts as 0 (not pickable). */
function effective(fn: WeightFn, inst: Instance): number {
  const w = fn(inst);
  return Number.isFinite(w) && w > 0 ? w : 0;
}

/** Instances by slot, their effective weights, and the slots that may be picked. */
export class Membership {
  /** Instance at each slot, in the order given to set(). */
  instances: Instance[] = [];
  /** Effective weight at each slot (0 = not pickable). */
  weights = new Float64Array(0);
  /** Slots with weight > 0, ascending; only the first `eligibleCount` entries are meaningful. */
  eligible = new Int32Array(0);
  eligibleCount = 0;
  /** Sum of effective weights. */
  totalWeight = 0;
  /** Largest effective weight. */
  maxWeight = 0;
  private index = new Map<string, number>();
  private readonly weightFn: WeightFn;

  constructor(weightFn: WeightFn = configuredWeight) {
    this.weightFn = weightFn;
  }

  /** Number of slots (members, pickable or not). */
  get size(): number {
    return this.instances.length;
  }

  /** Slot of an id, or -1. */
  slotOf(id: string): number {
    return this.index.get(id) ?? -1;
  }

  /**
   * Replace the membership. Returns, for each new slot, the slot the same id
   * had before (or -1), so pickers can carry per-instance state over.
   * Throws on bad input: duplicate ids, weights that are not positive integers.
   */
  set(instances: readonly Instance[]): Int32Array {
    const index = new Map<string, number>();
    const previous = new Int32Array(instances.length);
    for (let s = 0; s < instances.length; s++) {
      const inst = instances[s]!;
      if (index.has(inst.id)) throw new Error(`balancer: duplicate instance id "${inst.id}"`);
      if (!Number.isInteger(inst.weight) || inst.weight <= 0) {
        throw new Error(`balancer: instance "${inst.id}" has weight ${inst.weight} (use a positive integer)`);
      }
      index.set(inst.id, s);
      previous[s] = this.index.get(inst.id) ?? -1;
    }
    this.instances = instances.slice();
    this.index = index;
    this.weights = new Float64Array(instances.length);
    this.eligible = new Int32Array(instances.length);
    this.reweight();
    return previous;
  }

  /** Re-evaluate effective weights for the current members. */
  reweight(): void {
    let count = 0;
    let total = 0;
    let max = 0;
    for (let s = 0; s < this.instances.length; s++) {
      const w = effective(this.weightFn, this.instances[s]!);
      this.weights[s] = w;
      if (w > 0) {
        this.eligible[count++] = s;
        total += w;
        if (w > max) max = w;
      }
    }
    this.eligibleCount = count;
    this.totalWeight = total;
    this.maxWeight = max;
  }
}
