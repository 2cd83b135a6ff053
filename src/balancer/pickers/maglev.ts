/**
 * Consistent hashing with Maglev (Eisenbud et al., NSDI 2016; weighted as in
 * Envoy's MaglevTable): each instance walks its own permutation of a prime
 * table of size M, offset = h1(id) mod M, skip = h2(id) mod (M − 1) + 1, and
 * instances take turns claiming their next free entry — an instance of half
 * the top weight takes a turn every other round. A key maps to
 * table[hash(key) mod M]. Entries are near-even (±1 per instance at equal
 * weights) and when one instance leaves, almost only its entries move.
 */
import type { Random } from '../../core/random.js';
import type { Instance, Picker, PickerOptions } from '../types.js';
import { FNV_OFFSET, fmix32, fnv1a, hashKey, isPrime, nextPrime } from './hash.js';
import { Membership } from './membership.js';

/** Knobs of the Maglev picker. */
export interface MaglevOptions extends Pick<PickerOptions, 'random' | 'weight'> {
  /**
   * Lookup table size, a prime. Default: 65 537 (Envoy's default) while that is
   * ≥ 100 × instances, else the smallest prime ≥ 100 × instances.
   */
  tableSize?: number;
}

/** Second FNV basis so h2 is independent of h1. */
const SKIP_SEED = FNV_OFFSET ^ 0x9e3779b9;

/** Default table size for n instances. */
export function maglevTableSize(n: number): number {
  return 100 * n <= 65_537 ? 65_537 : nextPrime(100 * n);
}

/** Maglev consistent-hash picker. pick(key) is O(key length); without a key it picks a random table entry. */
export class MaglevPicker implements Picker {
  private readonly m: Membership;
  private readonly random: Random;
  private readonly fixedSize: number | undefined;
  /** Slot per table entry. */
  private table = new Int32Array(0);
  private tableSize = 0;

  constructor(instances: readonly Instance[], options: MaglevOptions) {
    if (options.tableSize !== undefined && !isPrime(options.tableSize)) {
      throw new Error(`balancer: maglev tableSize ${options.tableSize} is not a prime (e.g. 65537)`);
    }
    this.m = new Membership(options.weight);
    this.random = options.random;
    this.fixedSize = options.tableSize;
    this.update(instances);
  }

  pick(key?: string): Instance | undefined {
    if (this.m.eligibleCount === 0) return undefined;
    const h = key === undefined ? Math.floor(this.random() * 4294967296) : hashKey(key);
    return this.m.instances[this.table[h % this.tableSize]!];
  }

  update(instances: readonly Instance[]): void {
    this.m.set(instances);
    this.build();
  }

  reweight(): void {
    this.m.reweight();
    this.build();
  }

  /** Share of table entries per instance id (for diagnostics and tests). */
  shares(): Map<string, number> {
    const counts = new Map<string, number>();
    for (let e = 0; e < this.tableSize; e++) {
      const id = this.m.instances[this.table[e]!]!.id;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    for (const [id, c] of counts) counts.set(id, c / this.tableSize);
    return counts;
  }

  private build(): void {
    const n = this.m.eligibleCount;
    if (n === 0) {
      this.table = new Int32Array(0);
      this.tableSize = 0;
      return;
    }
    const size = this.fixedSize ?? maglevTableSize(n);
    if (size < n) throw new Error(`balancer: maglev tableSize ${size} is smaller than ${n} instances`);
    const table = new Int32Array(size).fill(-1);
    // Per eligible instance: next permutation position, skip, claimed-turn target.
    const pos = new Float64Array(n);
    const skip = new Float64Array(n);
    const target = new Float64Array(n);
    const weight = new Float64Array(n);
    const maxW = this.m.maxWeight;
    for (let i = 0; i < n; i++) {
      const inst = this.m.instances[this.m.eligible[i]!]!;
      pos[i] = hashKey(inst.id) % size;
      skip[i] = (fmix32(fnv1a(inst.id, SKIP_SEED)) % (size - 1)) + 1;
      weight[i] = this.m.weights[this.m.eligible[i]!]!;
    }
    let filled = 0;
    for (let round = 1; filled < size; round++) {
      for (let i = 0; i < n && filled < size; i++) {
        // An instance of weight maxW/k claims one entry every k rounds.
        if (round * weight[i]! < target[i]!) continue;
        target[i] = target[i]! + maxW;
        let c = pos[i]!;
        while (table[c] !== -1) c = (c + skip[i]!) % size;
        table[c] = this.m.eligible[i]!;
        pos[i] = (c + skip[i]!) % size;
        filled++;
      }
    }
    this.table = table;
    this.tableSize = size;
  }
}
