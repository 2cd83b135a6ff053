import { afterEach, describe, expect, it } from 'vitest';
import type { HealthStatus } from '../../src/core/status.js';
import { openSqliteStore, type SqliteHistoryStore } from '../../src/store/sqlite.js';
import type { TransitionRecord } from '../../src/store/types.js';
import { incidentsFrom, StoredIncidents } from '../../src/server/web-stored-incidents.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 1);

const svc = (service: string, at: number, from: HealthStatus, to: HealthStatus, output = ''): TransitionRecord => ({
  level: 'service',
  checkId: '',
  service,
  instance: '',
  from,
  to,
  reason: 'rollup',
  output,
  at,
});

let store: SqliteHistoryStore | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

describe('status-page incidents from the store', () => {
  it('rebuilds incidents from service transitions, newest first, across a fresh reader (as after a restart)', async () => {
    store = await openSqliteStore({ path: ':memory:' });
    await store.write({
      results: [],
      transitions: [
        svc('db', NOW - 10 * DAY, 'UNKNOWN', 'HEALTHY'),
        svc('db', NOW - 9 * DAY, 'HEALTHY', 'UNHEALTHY', 'check db/1/tcp failing'),
        // UNKNOWN in between does not end an incident.
        svc('db', NOW - 9 * DAY + 60_000, 'UNHEALTHY', 'UNKNOWN'),
        svc('db', NOW - 9 * DAY + 120_000, 'UNKNOWN', 'UNHEALTHY'),
        svc('db', NOW - 9 * DAY + 600_000, 'UNHEALTHY', 'DEGRADED'),
        svc('db', NOW - 2 * DAY, 'DEGRADED', 'UNHEALTHY', 'again'),
        svc('web', NOW - 5 * DAY, 'UNKNOWN', 'HEALTHY'),
        svc('web', NOW - 4 * DAY, 'HEALTHY', 'UNHEALTHY', 'web down'),
        svc('web', NOW - 4 * DAY + 30_000, 'UNHEALTHY', 'HEALTHY'),
        // Outside both pages' services: never read.
        svc('other', NOW - DAY, 'HEALTHY', 'UNHEALTHY'),
      ],
    });
    const got = await new StoredIncidents(store).of(['db', 'web'], 10, NOW);
    expect(got).toEqual([
      { service: 'db', start: NOW - 2 * DAY, end: null, cause: 'again' },
      { service: 'web', start: NOW - 4 * DAY, end: NOW - 4 * DAY + 30_000, cause: 'web down' },
      { service: 'db', start: NOW - 9 * DAY, end: NOW - 9 * DAY + 600_000, cause: 'check db/1/tcp failing' },
    ]);
    expect(await new StoredIncidents(store).of(['db', 'web'], 2, NOW)).toHaveLength(2);
  });

  it('leaves out incidents that began before the 90 days it reads', async () => {
    store = await openSqliteStore({ path: ':memory:' });
    await store.write({
      results: [],
      transitions: [svc('db', NOW - 100 * DAY, 'HEALTHY', 'UNHEALTHY'), svc('db', NOW - 80 * DAY, 'UNHEALTHY', 'HEALTHY')],
    });
    expect(await new StoredIncidents(store).of(['db'], 10, NOW)).toEqual([]);
  });

  it('with a truncated read, keeps a first incident only when a row proves nothing was open before it', () => {
    const rows = [
      svc('s', 1, 'UNKNOWN', 'UNHEALTHY'),
      svc('s', 2, 'UNHEALTHY', 'HEALTHY'),
      svc('s', 3, 'HEALTHY', 'UNHEALTHY'),
      svc('s', 4, 'UNHEALTHY', 'HEALTHY'),
    ];
    expect(incidentsFrom('s', rows, false).map((i) => i.start)).toEqual([3]);
    expect(incidentsFrom('s', rows, true).map((i) => i.start)).toEqual([1, 3]);
  });
});
