import { z } from 'zod';
import { commonCheckFields, positiveDuration } from '../common.js';

/** Bounds of the interval a ttl check gets when none is set (ms). */
const TTL_INTERVAL_MIN_MS = 100;
const TTL_INTERVAL_MAX_MS = 10_000;

/**
 * Interval (ms) of a ttl check that sets none: half the ttl, kept within
 * 100 ms … 10 s. A ttl run does no I/O, so frequent runs cost nothing, and an
 * expiry is then noticed at most min(ttl/2, 10 s) late.
 */
export function defaultTtlInterval(ttlMs: number): number {
  return Math.min(TTL_INTERVAL_MAX_MS, Math.max(TTL_INTERVAL_MIN_MS, ttlMs / 2));
}

/**
 * A check with no probe: the service pushes heartbeats (`PUT
 * /api/v1/checks/:id/ttl` or the library's `heartbeat()`), as Consul's TTL
 * checks. A heartbeat stays valid for `ttl`; with none valid the check is
 * UNHEALTHY `ttl_expired`.
 *
 * The schedule interval decides how fast an expiry is noticed (a run is what
 * turns a stale heartbeat into ttl_expired), so keep `interval` ≤ ttl/2. When
 * `interval` is left out it defaults here to ttl/2 (100 ms … 10 s), not to
 * `defaults.interval`.
 */
export const ttlCheckSchema = z
  .strictObject({
    kind: z.literal('ttl'),
    ...commonCheckFields,
    ttl: positiveDuration.meta({
      description:
        'How long a heartbeat stays valid; none within it gives UNHEALTHY ttl_expired. Runs notice an expiry, so keep interval ≤ ttl/2 (default interval: ttl/2, at most 10s)',
    }),
    initial_status: z.enum(['HEALTHY', 'UNHEALTHY', 'UNKNOWN']).default('UNKNOWN').meta({
      description: 'Status before the first heartbeat; once ttl has passed since start without one it is ttl_expired anyway',
    }),
  })
  // A check (not a transform) so the schema stays an object for the kinds' discriminated union.
  .overwrite((c) => {
    if (c.interval === undefined) c.interval = defaultTtlInterval(c.ttl);
    return c;
  });

/** A validated ttl check; `ttl` and `interval` in ms. */
export type TtlCheckConfig = z.output<typeof ttlCheckSchema>;
