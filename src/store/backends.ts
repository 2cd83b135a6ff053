/**
 * The history store backends, one factory a backend in one typed map, and
 * `openStore`, which opens the backend a config's `storage:` section names.
 * Adding a backend: its file exporting a `StoreFactory`, its member of the
 * union in config/storage.ts, one line in `storeBackends`.
 */
import type { StorageConfig } from '../config/storage.js';
import type { Logger } from '../core/logger.js';
import { sqliteBackend } from './sqlite.js';
import type { HistoryStore } from './types.js';

/** A backend's name, as written in `storage.backend`. */
export type StoreKind = StorageConfig['backend'];

/** The `storage:` section of one backend. */
export type StorageSettings<K extends StoreKind = StoreKind> = { [P in K]: Extract<StorageConfig, { backend: P }> }[K];

/** What a backend may need besides its settings. */
export interface StoreDeps {
  /** For a backend that reports trouble it recovers from on its own (a lost connection). */
  logger?: Logger;
}

/** Opens one backend's store from its section of the config. */
export type StoreFactory<S> = (settings: S, deps: StoreDeps) => Promise<HistoryStore>;

type StoreBackends = { [K in StoreKind]: StoreFactory<StorageSettings<K>> };

/** Every backend by name. */
export const storeBackends = { sqlite: sqliteBackend } satisfies StoreBackends;

/** Open the store the `storage:` section names. */
export function openStore<K extends StoreKind>(settings: StorageSettings<K>, deps: StoreDeps = {}): Promise<HistoryStore> {
  const backends: StoreBackends = storeBackends;
  return backends[settings.backend](settings, deps);
}
