/**
 * Where the alerting module keeps its state (alerts, silences, the outbox),
 * per storage backend, in one typed map like the history's (backends.ts):
 * the PostgreSQL backend adds its factory here, so several daemons share
 * one alert state and outbox.
 */
import type { AlertStore } from '../alerts/store.js';
import type { AlertsConfig } from '../config/alerts.js';
import type { StorageSettings, StoreKind } from './backends.js';
import { openSqliteAlertStore } from './sqlite-alerts.js';

/** Opens a backend's alert store from its storage section and the alerts section. */
export type AlertStoreFactory<S> = (settings: S, alerts: AlertsConfig) => AlertStore;

type AlertStoreBackends = { [K in StoreKind]: AlertStoreFactory<StorageSettings<K>> };

/** Every backend's alert store by name. SQLite: the history's file (WAL), or `alerts.outbox.path`. */
export const alertStoreBackends = {
  sqlite: (storage, alerts) => openSqliteAlertStore({ path: alerts.outbox.path ?? storage.path }),
} satisfies AlertStoreBackends;

/** Open the alert store of the backend the `storage:` section names. */
export function openAlertStore<K extends StoreKind>(storage: StorageSettings<K>, alerts: AlertsConfig): AlertStore {
  const backends: AlertStoreBackends = alertStoreBackends;
  return backends[storage.backend](storage, alerts);
}
