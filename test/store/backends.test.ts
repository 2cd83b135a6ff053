import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { parseConfig } from '../../src/config/load.js';
import { openStore, storeBackends } from '../../src/store/backends.js';
import { SqliteHistoryStore } from '../../src/store/sqlite.js';
import { result, T0 } from './contract.js';

const root = mkdtempSync(join(tmpdir(), 'healthmesh-backends-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const configWith = (storage: string) => parseConfig(`storage: ${storage}\nservices: {}\n`, { file: 'hm.yaml', env: {} });

describe('storage backends', () => {
  it('reads a storage section without backend as sqlite, as configs written before the union', () => {
    expect(configWith(`{ path: "${join(root, 'a.db')}" }`).storage).toMatchObject({ backend: 'sqlite', path: join(root, 'a.db') });
    expect(parseConfig('services: {}\n', { env: {} }).storage).toMatchObject({ backend: 'sqlite', path: 'healthmesh.db', flush_interval: 1000 });
  });

  it('rejects an unknown backend, naming the field and the backends there are', () => {
    let error: unknown;
    try {
      configWith('{ backend: mongo, path: x }');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      'storage.backend: unknown storage backend (allowed: sqlite) (found: "mongo")',
    ]);
  });

  it('opens the store the section names, with its retention', async () => {
    expect(Object.keys(storeBackends)).toEqual(['sqlite']);
    const config = configWith(`{ path: "${join(root, 'b', 'history.db')}", retention: { results: 1m } }`);
    const store = await openStore(config.storage);
    try {
      expect(store).toBeInstanceOf(SqliteHistoryStore);
      expect((store as SqliteHistoryStore).path).toBe(join(root, 'b', 'history.db'));
      await store.write({ results: [result('s/i/c', T0), result('s/i/c', T0 + 3 * 3_600_000)], transitions: [] });
      // Retention from the config: a result older than 1 minute goes once its buckets are rolled up.
      const report = await store.maintain(T0 + 3 * 3_600_000 + 30_000, { lateMs: 0 });
      expect(report.deleted.results).toBe(1);
    } finally {
      await store.close();
    }
  });
});
