/**
 * What a service balancer is given and what it tells: the members a feed
 * pushes in, the events it emits, and the snapshot the API shows. Kept apart
 * from service-balancer.ts so that file holds only the balancing.
 */
import type { Clock } from '../core/clock.js';
import type { Random } from '../core/random.js';
import type { HealthStatus } from '../core/status.js';
import type { BalancerConfig } from '../config/balancer.js';
import type { BreakerState } from './breaker.js';
import type { OutlierChange, OutlierExplanation } from './outlier.js';

/** An instance as the feed describes it: identity, place and active health. */
export interface UpstreamMember {
  /** Instance id, unique within the service. */
  readonly id: string;
  /** host:port. */
  readonly address: string;
  /** Configured weight (0 = drain: never picked). */
  readonly weight: number;
  readonly zone?: string;
  /** Status from the active checks. HEALTHY and DEGRADED take traffic. */
  readonly status: HealthStatus;
  /** Health score 0–100 (see status/rollup.ts). */
  readonly score: number;
}

/** What the balancer tells its owner (metrics, adaptive intervals, logs). */
export type BalancerEvent =
  | { readonly type: 'outlier'; readonly service: string; readonly change: OutlierChange }
  | {
      readonly type: 'breaker';
      readonly service: string;
      readonly id: string;
      readonly from: BreakerState['kind'];
      readonly to: BreakerState['kind'];
      readonly at: number;
      readonly figures?: Record<string, number>;
    }
  | { readonly type: 'panic'; readonly service: string; readonly panic: boolean; readonly healthyShare: number; readonly at: number }
  /** Real traffic to `id` has succeeded `streak` times in a row (healthy), or failed after such a streak. */
  | { readonly type: 'passive'; readonly service: string; readonly id: string; readonly healthy: boolean; readonly at: number };

/** Options of {@link ServiceBalancer}. */
export interface ServiceBalancerOptions {
  service: string;
  config: BalancerConfig;
  clock: Clock;
  random: Random;
  onEvent?: (event: BalancerEvent) => void;
}

/** One instance in the balancer's snapshot (GET /api/v1/services/:service/balancer). */
export interface MemberSnapshot {
  id: string;
  address: string;
  zone: string | null;
  status: HealthStatus;
  score: number;
  /** Whether it may take traffic outside panic: active-healthy, not ejected, breaker not open, weight > 0. */
  usable: boolean;
  /** In the picker's membership right now (usable and in the chosen zone, or anything in panic). */
  inRotation: boolean;
  weight: number;
  /** Weight the picker uses: weight × score factor × slow-start factor. */
  effectiveWeight: number;
  /** Slow-start factor 0..1 and when the ramp ends (epoch ms), or null when not ramping. */
  slowStart: { factor: number; endsAt: number } | null;
  inFlight: number;
  picks: number;
  successes: number;
  failures: number;
  breaker: { state: BreakerState['kind']; opens: number; reopensAt: number | null } | null;
  outlier: OutlierExplanation | null;
}

/** Live state of one service's balancer. */
export interface BalancerSnapshot {
  service: string;
  picker: BalancerConfig['picker'];
  /** Balancing over every instance because too few are usable. */
  panic: boolean;
  /** Usable instances / all instances with weight > 0, 0..1. */
  healthyShare: number;
  panicThreshold: number;
  zone: { local: string; usingLocal: boolean } | null;
  instances: MemberSnapshot[];
}
