/**
 * The `storage:` section of the config: a union on `backend`, one member a
 * backend (PostgreSQL joins as a second member). `backend: sqlite` is the
 * default when left out, so configs written before the union still validate.
 */
import { z } from 'zod';
import { positiveDuration } from './common.js';

/** Settings every backend shares: how often the writer flushes and how long rows are kept. */
const sharedStorageFields = {
  flush_interval: positiveDuration.default(1000).meta({ description: 'Results are written in one transaction this often' }),
  retention: z
    .strictObject({
      results: positiveDuration.default(7 * 86_400_000),
      minute_rollups: positiveDuration.default(30 * 86_400_000),
      hour_rollups: positiveDuration.default(365 * 86_400_000),
      transitions: positiveDuration.default(90 * 86_400_000).meta({ description: 'Check transitions' }),
      uptime: positiveDuration
        .default(400 * 86_400_000)
        .meta({ description: 'Instance and service transitions and the daily status time uptime is computed from' }),
    })
    .prefault({}),
};

export const sqliteStorageSchema = z.strictObject({
  backend: z.literal('sqlite').default('sqlite').meta({ description: 'One embedded SQLite file (the default)' }),
  path: z.string().min(1).default('healthmesh.db').meta({ description: 'SQLite file (":memory:" keeps nothing)' }),
  ...sharedStorageFields,
});

/** Every backend's section. Adding a backend: one member here, one factory in store/backends.ts. */
const storageBackendSchemas = [sqliteStorageSchema] as const;

/** Every storage backend's name. */
export const STORAGE_BACKENDS = storageBackendSchemas.map((s) => s.shape.backend.unwrap().value);

export const storageSchema = z
  .discriminatedUnion('backend', storageBackendSchemas, {
    error: (issue) => (issue.code === 'invalid_union' ? `unknown storage backend (allowed: ${STORAGE_BACKENDS.join(', ')})` : undefined),
  })
  .prefault({});

/** The storage section after validation and defaults. */
export type StorageConfig = z.output<typeof storageSchema>;
