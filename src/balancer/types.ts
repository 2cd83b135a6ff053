/**
 * Shared types of the load-balancing part: the membership a picker chooses
 * from and the contract every picker implements.
 */
import type { Clock } from '../core/clock.js';
import type { Random } from '../core/random.js';

/** One upstream instance as seen by the balancer. */
export interface Instance {
  /** Stable identity (e.g. `host:port`); hashing and counters key on it. */
  readonly id: string;
  /** Configured weight, a positive integer (relative share of traffic). */
  readonly weight: number;
  /** Locality, for zone-aware routing. */
  readonly zone?: string;
}

/**
 * Effective weight of an instance, e.g. configured weight × health score ×
 * slow-start ramp. Evaluated on update() and reweight(), never per pick.
 * Non-finite or ≤ 0 means "do not pick".
 */
export type WeightFn = (instance: Instance) => number;

/** Dependencies and knobs shared by every picker factory. */
export interface PickerOptions {
  random: Random;
  clock: Clock;
  /** Effective weight; defaults to `instance.weight`. */
  weight?: WeightFn;
}

/** Chooses one instance per request. pick() allocates nothing. */
export interface Picker {
  /** An instance for this request (key: hash key, used by hashing pickers), or undefined if none is pickable. */
  pick(key?: string): Instance | undefined;
  /** Replace the membership; per-instance state of ids that stay is kept. */
  update(instances: readonly Instance[]): void;
  /** Re-evaluate effective weights for the same membership. */
  reweight(): void;
}
