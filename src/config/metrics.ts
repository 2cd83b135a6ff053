import { z } from 'zod';
import { RESERVED_LABEL_NAMES } from '../metrics/names.js';

/**
 * Config of the Prometheus metrics (`metrics:`). `labels_from` is an
 * allowlist: only the keys named here become labels, so a team adding
 * metadata to its instances cannot add series to everyone's Prometheus.
 */

/** Most keys labels_from takes: every one lengthens every per-check and per-instance series. */
export const MAX_LABELS_FROM = 8;

const labelName = z
  .string()
  .regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'use a Prometheus label name: letters, digits and "_", not starting with a digit')
  .refine((name) => !name.startsWith('__'), { message: 'names starting with "__" are reserved by Prometheus' })
  .refine((name) => !RESERVED_LABEL_NAMES.includes(name), {
    error: (issue) => `"${String(issue.input)}" is already a label of healthmesh's families (${RESERVED_LABEL_NAMES.join(', ')}); use another key`,
  });

/**
 * How much of each check and instance goes into /metrics: `full` every
 * series (4 status series per check and per instance, flapping, every
 * balancer gauge per instance), `status` only the series whose value is set
 * (the current status, flapping when flapping, a breaker that is not closed,
 * …) and the instance scores, `none` nothing per check or instance. The
 * per-service families (counters, the duration histogram, statuses, scores)
 * are always there. README: Metrics, What it costs.
 */
export const PER_CHECK_MODES = ['full', 'status', 'none'] as const;

/** One of {@link PER_CHECK_MODES}. */
export type PerCheckMode = (typeof PER_CHECK_MODES)[number];

/** The `metrics:` section. */
export const metricsSchema = z.strictObject({
  protect: z.boolean().default(false).meta({ description: 'Require a token with the read scope on /metrics (README, "Security")' }),
  per_check: z
    .enum(PER_CHECK_MODES)
    .default('status')
    .meta({
      description:
        'Series per check and per instance: full (every status series, flapping, balancer gauges), status (only the ' +
        'series that are set: current status, scores, open breakers; the default), none (per service only)',
    }),
  labels_from: z
    .array(labelName)
    .max(MAX_LABELS_FROM)
    .default([])
    .refine((names) => new Set(names).size === names.length, { message: 'name each key once' })
    .meta({
      description:
        'Instance metadata keys to add as labels to the per-check and per-instance families (check and instance ' +
        'status, instance score, system gauges). The value is metadata[key], else the value of a "key=value" tag, else "". ' +
        'Read at start: a change takes effect on restart',
    }),
});

/** A validated `metrics:` section. */
export type MetricsConfig = z.output<typeof metricsSchema>;
