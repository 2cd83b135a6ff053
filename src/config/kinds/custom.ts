import { z } from 'zod';
import { commonCheckFields } from '../common.js';

/**
 * A check written by the user: an ES module whose default export is
 * `async (ctx) => ({ status, output?, metrics? })`, run in a worker thread so
 * a crash, an endless loop or a memory leak in it costs only that worker.
 *
 * `module` is an absolute path or a path relative to the daemon's working
 * directory (process.cwd()), not to the config file. Checks naming the same
 * module (and memory limit) share one pool of workers, and so the module's
 * top-level state; the module is imported once per worker, so edits to it
 * take effect when its workers are replaced (restart, timeout or crash).
 */
export const customCheckSchema = z.strictObject({
  kind: z.literal('custom'),
  ...commonCheckFields,
  module: z.string().min(1).meta({
    description: 'ES module file exporting default async (ctx) => ({ status, output?, metrics? }); absolute, or relative to the working directory',
  }),
  params: z.record(z.string(), z.json()).default({}).meta({ description: 'JSON values handed to the check as ctx.params' }),
  memory_limit_mb: z.number().int().min(8).max(16_384).default(64).meta({
    description:
      'JS heap limit of the worker in MiB (resourceLimits.maxOldGenerationSizeMb); past it the worker dies and the check is UNKNOWN memory_limit. Buffers and ArrayBuffers are not counted',
  }),
  workers: z.number().int().min(1).max(64).default(1).meta({
    description: 'Worker threads for this module, shared by every check using it (the largest asked for wins); each runs one call at a time',
  }),
});

/** A validated custom check. */
export type CustomCheckConfig = z.output<typeof customCheckSchema>;
