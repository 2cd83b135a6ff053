/**
 * Metric families of the reverse proxy, in the shape of
 * src/metrics/names.ts's FAMILIES (to be folded in there). Labels are
 * bounded: `service` (a configured service), `service_instance` (an instance
 * id), `code` (2xx, 3xx, 4xx, 5xx or `error` for a transport failure). Never
 * a URL, a host or an error text.
 *
 * Series: S services, I instances → I × 5 + S × 17 + 2 S + I + 1.
 */
import type { FamilySpec } from '../metrics/names.js';

/** Every proxy metric family. */
export const PROXY_FAMILIES = {
  upstreamRequests: {
    name: 'healthmesh_proxy_upstream_requests_total',
    type: 'counter',
    labelNames: ['service', 'service_instance', 'code'],
    help: 'Upstream attempts (first tries and retries) by outcome: status class of the response, or error for a transport failure or timeout.',
  },
  attemptDuration: {
    name: 'healthmesh_proxy_upstream_attempt_duration_seconds',
    type: 'histogram',
    labelNames: ['service'],
    help: 'Time of one upstream attempt until response headers or failure, seconds.',
  },
  retries: {
    name: 'healthmesh_proxy_retries_total',
    type: 'counter',
    labelNames: ['service'],
    help: 'Retries sent, each to another instance than the attempts before it.',
  },
  budgetExhausted: {
    name: 'healthmesh_proxy_retry_budget_exhausted_total',
    type: 'counter',
    labelNames: ['service'],
    help: 'Retries that would have been sent but the retry budget refused.',
  },
  inFlight: {
    name: 'healthmesh_proxy_upstream_requests_in_flight',
    type: 'gauge',
    labelNames: ['service', 'service_instance'],
    help: 'Upstream attempts in flight, until response headers or failure (counted as the balancer counts them).',
  },
  unrouted: {
    name: 'healthmesh_proxy_unrouted_requests_total',
    type: 'counter',
    labelNames: [],
    help: 'Requests that matched no route (answered 404).',
  },
} as const satisfies Record<string, FamilySpec>;

/**
 * Upper bounds (seconds) of the attempt duration histogram: 0.5 ms to 30 s
 * (the default proxy timeout). Attempts on a LAN take 0.5-5 ms.
 */
export const ATTEMPT_DURATION_BUCKETS_SECONDS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];
