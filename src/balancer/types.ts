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

/**
 * What the proxy needs from load balancing: per service, an instance for a
 * request and a place to report how the request went. Implemented by
 * balancer-set.ts over the in-process engine or a followed daemon; the proxy
 * (proxy/) and the library are its users.
 */

/** How one upstream attempt ended. */
export interface AttemptOutcome {
  /** The attempt counts as a success for breakers and outlier detection. */
  ok: boolean;
  /** Time to response headers (or to the failure), ms. */
  latencyMs: number;
  /** HTTP status; omitted for transport failures (refused, reset, timeout), which count as 503. */
  status?: number;
}

/** One instance chosen for an attempt. */
export interface PickedUpstream {
  /** Instance id, unique within its service. */
  readonly id: string;
  /** host:port to send the request to. */
  readonly address: string;
}

/** The balancer of one service, as the proxy uses it. */
export interface UpstreamBalancer {
  /**
   * Request header whose value is the hash key (consistent-hash pickers);
   * undefined: the client address is the key.
   */
  readonly hashHeader?: string;
  /**
   * An instance for this attempt, avoiding the ids in `exclude` (instances
   * already tried by this request) when any other can be picked. Counts as a
   * request in flight until report() or release().
   */
  pick(key?: string, exclude?: ReadonlySet<string>): PickedUpstream | undefined;
  /** The attempt to `id` ended with this outcome. */
  report(id: string, outcome: AttemptOutcome): void;
  /** The attempt to `id` ended without an outcome worth judging (the client went away). */
  release(id: string): void;
  /** Whether `id` is still an instance of the service (lets per-instance metrics of departed instances go). */
  has?(id: string): boolean;
}

/** Balancers by service name. */
export interface ProxyUpstreams {
  balancer(service: string): UpstreamBalancer | undefined;
}
