import { z } from 'zod';
import { commonCheckFields } from '../common.js';

/**
 * Config of the `system` kind: resources of the machine the daemon runs on
 * (CPU, memory, disks, load), each with optional warn/critical thresholds.
 * A resource at or over `critical` makes the check UNHEALTHY
 * `threshold_critical`, at or over `warn` DEGRADED `threshold_warning`; a
 * resource without thresholds is only measured (metrics).
 */

const fraction = z.number().min(0).max(1);

/** warn ≤ critical when both are set; the issue points at `warn`. */
function orderedThresholds(t: { warn?: number | undefined; critical?: number | undefined }, ctx: z.RefinementCtx): void {
  if (t.warn !== undefined && t.critical !== undefined && t.warn > t.critical) {
    ctx.addIssue({
      code: 'custom',
      path: ['warn'],
      input: t.warn,
      message: `warn (${t.warn}) must not exceed critical (${t.critical})`,
    });
  }
}

const fractionThresholds = z
  .strictObject({
    warn: fraction.optional().meta({ description: 'Share (0..1) at or above which the check is DEGRADED' }),
    critical: fraction.optional().meta({ description: 'Share (0..1) at or above which the check is UNHEALTHY' }),
  })
  .superRefine(orderedThresholds);

const diskResource = z
  .strictObject({
    path: z.string().startsWith('/', 'use an absolute path, e.g. /var').meta({ description: 'A path on the filesystem to watch' }),
    warn: fraction.optional().meta({ description: 'Used share (0..1, as df computes it) giving DEGRADED' }),
    critical: fraction.optional().meta({ description: 'Used share (0..1, as df computes it) giving UNHEALTHY' }),
  })
  .superRefine(orderedThresholds);

const loadResource = z
  .strictObject({
    warn: z.number().min(0).optional().meta({ description: '1-minute load at or above which the check is DEGRADED' }),
    critical: z.number().min(0).optional().meta({ description: '1-minute load at or above which it is UNHEALTHY' }),
    per_cpu: z.boolean().default(false).meta({ description: 'Compare the 1-minute load divided by the number of CPUs' }),
  })
  .superRefine(orderedThresholds);

/** What `resources` means when left out: everything measured, memory and `/` judged. */
export const DEFAULT_SYSTEM_RESOURCES = {
  cpu: {},
  memory: { warn: 0.9, critical: 0.95 },
  load: { per_cpu: true },
  disk: [{ path: '/', warn: 0.9, critical: 0.95 }],
};

/** The `system` check as written in the config file. */
export const systemCheckSchema = z.strictObject({
  kind: z.literal('system'),
  ...commonCheckFields,
  resources: z
    .strictObject({
      cpu: fractionThresholds.optional().meta({ description: 'Busy share of all CPUs since the previous run (metric cpu_busy)' }),
      memory: fractionThresholds.optional().meta({ description: 'Used share of memory, 1 - MemAvailable/MemTotal (metric memory_used)' }),
      disk: z.array(diskResource).min(1).optional().meta({ description: 'Filesystems by path (metrics disk_used_<path>, / is disk_used_root)' }),
      load: loadResource.optional().meta({ description: '1-minute load average (metrics load1, load5, load15)' }),
    })
    .refine((r) => r.cpu !== undefined || r.memory !== undefined || r.disk !== undefined || r.load !== undefined, {
      message: 'name at least one resource: cpu, memory, disk or load',
    })
    .prefault(DEFAULT_SYSTEM_RESOURCES)
    .meta({
      description:
        'Resources to measure, each with optional warn/critical thresholds. Default: cpu, load (per CPU) and ' + 'memory and / (warn 0.9, critical 0.95)',
    }),
});

/** A validated system check config. */
export type SystemCheckConfig = z.output<typeof systemCheckSchema>;
