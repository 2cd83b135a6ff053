import { z } from 'zod';
import { positiveDuration } from './common.js';

/**
 * A service's objective (`services.<name>.slo`). The objective is a
 * percentage as people write it (99.9), kept as given; `sloSpecOf` turns it
 * into the share the analysis works with (0.999).
 *
 * - `availability`: the share of the service's check results that passed
 *   (HEALTHY or DEGRADED), counted from the stored rollups.
 * - `latency`: a time-slice objective: the share of minutes whose p95 of
 *   the service's results was at most `latency_threshold` (rollups keep the
 *   p95 of each minute, not every result's duration).
 */
export const sloSchema = z
  .strictObject({
    objective: z
      .number()
      .gt(0, 'must be above 0 (a percentage, e.g. 99.9)')
      .lt(100, 'must be below 100 (100 % leaves no error budget; use e.g. 99.99)')
      .meta({ description: 'Target share of good events, in percent (e.g. 99.9)' }),
    window: positiveDuration
      .default(30 * 86_400_000)
      .refine((ms) => ms >= 3 * 86_400_000, { message: 'must be at least 3d (the slowest burn-rate window is 3 days)' })
      .meta({ description: 'The SLO window, e.g. 30d; at most the minute-rollup retention is read at minute detail, the rest from hour rollups' }),
    kind: z.enum(['availability', 'latency']).default('availability'),
    latency_threshold: positiveDuration
      .optional()
      .meta({ description: 'kind latency: a minute is good when the p95 of the service results in it is at most this (e.g. 300ms)' }),
    exclude_maintenance: z
      .boolean()
      .default(false)
      .meta({ description: 'Leave out time inside maintenance windows (alerts.maintenance) matching the service' }),
  })
  .superRefine((slo, ctx) => {
    if (slo.kind === 'latency' && slo.latency_threshold === undefined) {
      ctx.addIssue({ code: 'custom', path: ['latency_threshold'], message: 'kind latency needs latency_threshold: (e.g. 300ms)', input: slo });
    }
    if (slo.kind === 'availability' && slo.latency_threshold !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['latency_threshold'], message: 'latency_threshold applies to kind: latency only', input: slo });
    }
  });

/** A validated `slo:` of a service. */
export type SloConfig = z.output<typeof sloSchema>;

/** The objective as a share in (0, 1) and the window in ms, as src/analysis/slo.ts takes them. */
export function sloSpecOf(slo: SloConfig): { objective: number; windowMs: number } {
  // toPrecision: 99.9 / 100 is 0.9990000000000001 in binary; the objective people wrote is 0.999.
  return { objective: Number((slo.objective / 100).toPrecision(12)), windowMs: slo.window };
}

/** What the SLO cross-checks read of the whole config (structural, so this file does not import schema.ts). */
export interface SloHost {
  storage: { retention: { hour_rollups: number } };
  services: Record<string, { slo?: SloConfig }>;
}

/** An SLO window longer than the hour rollups are kept could never be counted whole. */
export function sloCrossChecks(config: SloHost): Array<{ path: Array<string | number>; message: string }> {
  const problems: Array<{ path: Array<string | number>; message: string }> = [];
  const kept = config.storage.retention.hour_rollups;
  for (const [name, service] of Object.entries(config.services)) {
    if (service.slo && service.slo.window > kept) {
      problems.push({
        path: ['services', name, 'slo', 'window'],
        message: `longer than storage.retention.hour_rollups (${Math.round(kept / 86_400_000)}d): the window could never be counted whole`,
      });
    }
  }
  return problems;
}
