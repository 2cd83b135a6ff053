import { z } from 'zod';
import { listenerTlsSchema } from './security.js';
import { address, duration, positiveDuration } from './common.js';

/**
 * Config of health-aware load balancing (`services.<name>.balancer`) and of
 * the reverse proxy built on it (`proxy:`). Every field has a default, so
 * `balancer: {}` is a working setup: EDF weighted round robin, Envoy's
 * outlier defaults, a consecutive-failure breaker, panic below 50 %.
 */

const percent = z.number().min(0).max(100);

const breakerSchema = z.strictObject({
  enabled: z.boolean().default(true),
  trip: z
    .enum(['consecutive', 'ratio'])
    .default('consecutive')
    .meta({ description: 'consecutive: N failures in a row; ratio: failure share over a sliding window' }),
  consecutive_failures: z.number().int().min(1).default(5),
  failure_ratio: z.number().gt(0).max(1).default(0.5).meta({ description: 'With trip: ratio; 0.5 = half the calls' }),
  window: positiveDuration.default(10_000).meta({ description: 'Sliding window of the ratio trip' }),
  min_requests: z.number().int().min(1).default(20).meta({ description: 'Calls in the window before the ratio trips' }),
  open_for: positiveDuration.default(5_000).meta({ description: 'First open period; doubles on each trip in a row' }),
  max_open_for: positiveDuration.default(60_000),
  half_open_trials: z.number().int().min(1).default(1).meta({ description: 'Trial calls in half-open; all must succeed' }),
  slow_call: positiveDuration.optional().meta({ description: 'Calls slower than this count as failures' }),
});

const outlierSchema = z.strictObject({
  enabled: z.boolean().default(true),
  interval: positiveDuration.default(10_000).meta({ description: 'Sweep period of the success-rate and failure-percentage detectors' }),
  base_ejection_time: positiveDuration.default(30_000).meta({ description: 'Ejection time × times ejected, capped' }),
  max_ejection_time: positiveDuration.default(300_000),
  max_ejection_percent: percent.default(10).meta({ description: 'At most ceil(instances × percent / 100) ejected at once: 3 instances at 10 % → 1' }),
  consecutive_5xx: z.union([z.number().int().min(1), z.literal(false)]).default(5),
  consecutive_gateway_failure: z.union([z.number().int().min(1), z.literal(false)]).default(false),
  success_rate: z
    .union([
      z.strictObject({
        minimum_hosts: z.number().int().min(1).default(5),
        request_volume: z.number().int().min(1).default(100),
        stdev_factor: z.number().min(0).default(1.9),
      }),
      z.literal(false),
    ])
    .default({ minimum_hosts: 5, request_volume: 100, stdev_factor: 1.9 }),
  failure_percentage: z
    .union([
      z.strictObject({
        threshold: percent.default(85),
        minimum_hosts: z.number().int().min(1).default(5),
        request_volume: z.number().int().min(1).default(50),
      }),
      z.literal(false),
    ])
    .default(false),
  uneject_on_active_healthy: z.boolean().default(true).meta({ description: 'Return an ejected instance early when its active checks pass again' }),
});

const slowStartSchema = z.strictObject({
  window: duration.default(0).meta({ description: 'Ramp length after an instance becomes healthy; 0 = off' }),
  aggression: z.number().gt(0).default(1).meta({ description: '1 linear; > 1 ramps faster early' }),
  min_weight_percent: percent.default(10).meta({ description: 'Lowest share of its weight while ramping' }),
});

const zoneSchema = z.strictObject({
  local: z.string().min(1).meta({ description: "The caller's zone; instances there are preferred" }),
  min_healthy_percent: percent.default(70).meta({ description: 'Prefer the local zone while at least this share of its instances can take traffic' }),
});

const adaptiveIntervalSchema = z.strictObject({
  stretch: z.number().min(1).max(100).default(1).meta({ description: 'Active interval × this while real traffic succeeds; 1 = off' }),
  min_successes: z.number().int().min(1).default(20).meta({ description: 'Passive successes in a row before stretching' }),
});

export const balancerSchema = z.strictObject({
  picker: z
    .enum(['wrr', 'p2c', 'least-latency', 'maglev', 'random'])
    .default('wrr')
    .meta({ description: 'wrr: smooth weighted round robin; p2c: least outstanding of two; least-latency: peak EWMA; maglev: consistent hash on a key' }),
  hash_key: z.string().optional().meta({ description: 'With picker: maglev, the request header whose value is the key (default: the client address)' }),
  use_score: z.boolean().default(true).meta({ description: 'Scale weights by the health score (score 50 → half the weight)' }),
  panic_threshold: percent.default(50).meta({ description: 'Below this share of usable instances, balance over all; 0 = never' }),
  slow_start: slowStartSchema.prefault({}),
  breaker: breakerSchema.prefault({}),
  outlier: outlierSchema.prefault({}),
  zone: zoneSchema.optional(),
  adaptive_interval: adaptiveIntervalSchema.prefault({}),
});

const routeSchema = z
  .strictObject({
    host: z.string().min(1).optional().meta({ description: 'Match the Host header (without port); "*.example.com" matches subdomains' }),
    path_prefix: z.string().startsWith('/', 'start with "/", e.g. /api').optional().meta({ description: 'Match paths starting with this' }),
    service: z.string().min(1).meta({ description: 'Service whose instances serve the route' }),
    strip_prefix: z.boolean().default(false).meta({ description: 'Remove path_prefix before forwarding' }),
  })
  .refine((r) => r.host !== undefined || r.path_prefix !== undefined, {
    message: 'give host, path_prefix or both',
  });

export const proxySchema = z.strictObject({
  listen: address.default('127.0.0.1:7480').meta({ description: 'Where the proxy accepts requests' }),
  tls: listenerTlsSchema.optional().meta({ description: 'HTTPS (mTLS with client_ca) for the proxy listener, as server.tls; served by the node engine' }),
  routes: z.array(routeSchema).min(1).meta({ description: 'First match wins: host and path prefix' }),
  timeout: positiveDuration.default(30_000).meta({ description: 'Limit of one upstream attempt, until response headers' }),
  retries: z
    .strictObject({
      attempts: z.number().int().min(0).max(10).default(2).meta({ description: 'Extra attempts, each on another instance' }),
      on: z.array(z.enum(['connect-failure', 'reset', 'timeout', '502', '503', '504'])).default(['connect-failure', 'reset', '502', '503', '504']),
      budget_percent: percent.default(20).meta({ description: 'Retries may add at most this share of requests…' }),
      min_per_second: z.number().min(0).default(10).meta({ description: '…plus this many retries a second' }),
    })
    .prefault({}),
  max_body_bytes: z.number().int().min(0).optional().meta({ description: 'Reject request bodies larger than this (413); bodies stream either way' }),
  tunnel_idle_timeout: positiveDuration
    .default(3_600_000)
    .meta({ description: 'An upgraded connection (WebSocket...) with no byte either way for this long is closed' }),
  drain_timeout: duration
    .default(10_000)
    .meta({ description: 'On stop: requests in flight get this long to finish (their responses say Connection: close); idle connections close at once' }),
});

export type BalancerConfig = z.output<typeof balancerSchema>;
export type ProxyConfig = z.output<typeof proxySchema>;
export type ProxyRoute = z.output<typeof routeSchema>;
