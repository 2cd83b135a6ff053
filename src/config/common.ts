import { z } from 'zod';
import { parseDuration } from './duration.js';

/**
 * Schema pieces every check kind shares. A kind's own schema spreads
 * `commonCheckFields` and adds its fields; config/schema.ts lists the kinds.
 */

/** A duration such as `500ms`, `10s`, `1m`; parsed to milliseconds. */
export const duration = z
  .union([z.string(), z.number()])
  .meta({ description: 'Duration: 500ms, 10s, 1m, 1h30m, or a number of milliseconds' })
  .transform((value, ctx) => {
    const ms = parseDuration(value);
    if (ms === undefined) {
      ctx.issues.push({
        code: 'custom',
        input: value,
        message: `${JSON.stringify(value)} is not a duration (use e.g. 500ms, 10s, 1m)`,
      });
      return z.NEVER;
    }
    return ms;
  });

export const positiveDuration = duration.refine((ms) => ms > 0, { message: 'must be greater than 0' });

/** host:port, [v6]:port or a bare host. */
export const address = z.string().min(1).meta({ description: 'host:port of the instance, e.g. 10.0.0.5:8080 or [::1]:9000' });

/** Settings every check has; `defaults:` supplies any left out. */
export const timingFields = {
  interval: positiveDuration.optional().meta({ description: 'Time between runs while healthy' }),
  timeout: positiveDuration.optional().meta({ description: 'Limit of one attempt' }),
  retries: z.number().int().min(0).max(10).optional().meta({ description: 'Extra attempts inside one run' }),
  retry_backoff: duration.optional().meta({ description: 'Wait before the first retry; doubles each retry' }),
  jitter: z.number().min(0).max(1).optional().meta({ description: 'Interval spread as a fraction (0.1 = ±10%)' }),
  rise: z.number().int().min(1).max(100).optional().meta({ description: 'Consecutive better results to recover' }),
  fall: z.number().int().min(1).max(100).optional().meta({ description: 'Consecutive worse results to fail' }),
  unhealthy_interval: positiveDuration.optional().meta({ description: 'Interval while UNHEALTHY (default: interval)' }),
  edge_interval: positiveDuration.optional().meta({ description: 'Interval while a transition is pending or just happened (default: interval)' }),
};

export const commonCheckFields = {
  name: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, "_", "." and "-"')
    .optional()
    .meta({ description: 'Check name, unique within the instance (default: the kind)' }),
  ...timingFields,
};
