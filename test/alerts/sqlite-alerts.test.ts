import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AlertStore } from '../../src/alerts/store.js';
import { openSqliteAlertStore } from '../../src/store/sqlite-alerts.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { row, runAlertStoreContract } from './store-contract.js';

const dir = mkdtempSync(join(tmpdir(), 'healthmesh-alerts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const paths = new WeakMap<AlertStore, string>();

runAlertStoreContract(
  'sqlite',
  async () => {
    const path = join(dir, `a${n++}.db`);
    const s = openSqliteAlertStore({ path });
    paths.set(s, path);
    return s;
  },
  {
    reopen: async (closed) => {
      const s = openSqliteAlertStore({ path: paths.get(closed)! });
      paths.set(s, paths.get(closed)!);
      return s;
    },
  },
);

describe('SQLite alert store beside the history', () => {
  it('opens on the history database file (WAL) and both work; the history keeps its own schema version', async () => {
    const path = join(dir, 'shared.db');
    const history = await openSqliteStore({ path });
    const alerts = openSqliteAlertStore({ path });
    try {
      await alerts.enqueue([row('n1')]);
      await history.write({ results: [], transitions: [] });
      expect((await alerts.claimDue('hook', Date.now(), 1, { owner: 'x', until: Date.now() + 1000 })).map((r) => r.id)).toEqual(['n1:hook']);
    } finally {
      await alerts.close();
      await history.close();
    }
    const history2 = await openSqliteStore({ path }); // would throw on a foreign user_version
    await history2.close();
  });

  it('two connections never claim the same row', async () => {
    const path = join(dir, 'two.db');
    const a = openSqliteAlertStore({ path });
    const b = openSqliteAlertStore({ path });
    try {
      await a.enqueue(Array.from({ length: 20 }, (_, i) => row(`n${i}`)));
      const now = Date.now() + 1e9;
      const got: string[] = [];
      for (let i = 0; i < 12; i++) {
        got.push(...(await a.claimDue('hook', now, 1, { owner: 'a', until: now + 1000 })).map((r) => r.id));
        got.push(...(await b.claimDue('hook', now, 1, { owner: 'b', until: now + 1000 })).map((r) => r.id));
      }
      expect(got).toHaveLength(20);
      expect(new Set(got).size).toBe(20);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
