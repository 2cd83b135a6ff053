/**
 * The AlertStore contract: every backend runs these tests (memory in
 * memory-store.test.ts, SQLite in sqlite-alerts.test.ts, PostgreSQL later).
 * A backend passes a factory returning a fresh, empty store, and optionally
 * `reopen`, which opens the same storage again after the test closed it.
 */
import { describe, expect, it } from 'vitest';
import type { Silence } from '../../src/alerts/silences.js';
import type { AlertStore, OutboxRow } from '../../src/alerts/store.js';
import type { AlertRecord, Notification } from '../../src/alerts/types.js';

export interface AlertStoreContractOptions {
  reopen?: (closed: AlertStore) => Promise<AlertStore>;
}

const T = 1_767_571_200_000;

export function notification(id: string): Notification {
  return {
    version: 1,
    id,
    createdAt: new Date(T).toISOString(),
    groupKey: 'hook|{"rule":"down"}',
    groupLabels: { rule: 'down' },
    status: 'firing',
    level: 'critical',
    title: 'db is down',
    counts: { firing: 1, resolved: 0, dependents: 1 },
    items: [
      {
        alertId: 'a1',
        event: 'firing',
        rule: 'down',
        state: 'firing',
        level: 'critical',
        labels: { rule: 'down', service: 'db' },
        annotations: { summary: 'db down ü ✓' },
        summary: 'db is UNHEALTHY',
        value: null,
        startsAt: new Date(T).toISOString(),
        endsAt: null,
        dependents: [{ alertId: 'a2', service: 'orders', rule: 'down' }],
      },
    ],
  };
}

export function row(id: string, notifier = 'hook', over: Partial<OutboxRow> = {}): OutboxRow {
  return {
    id: `${id}:${notifier}`,
    notifier,
    notification: notification(id),
    state: 'pending',
    attempts: 0,
    nextAttemptAt: T,
    createdAt: T,
    deliveredAt: null,
    lastError: null,
    ...over,
  };
}

export function alert(id: string, over: Partial<AlertRecord> = {}): AlertRecord {
  return {
    id,
    rule: 'down',
    labels: { rule: 'down', service: id },
    annotations: {},
    level: 'warning',
    state: 'firing',
    activeSince: T,
    firedAt: T,
    resolvedAt: null,
    value: 3.5,
    summary: 's',
    reminders: 0,
    notified: true,
    foldedInto: null,
    lastRemediationAt: null,
    timeline: [{ at: T, type: 'firing', detail: 'x' }],
    updatedAt: T,
    ...over,
  };
}

const lease = (owner: string, until = T + 10_000) => ({ owner, until });

export function runAlertStoreContract(name: string, open: () => Promise<AlertStore>, options: AlertStoreContractOptions = {}): void {
  describe(`AlertStore contract: ${name}`, () => {
    const withStore = (fn: (s: AlertStore) => Promise<void>) => async () => {
      const s = await open();
      try {
        await fn(s);
      } finally {
        await s.close();
      }
    };

    it(
      'claims due rows oldest first, the notification intact; not-yet-due rows wait',
      withStore(async (s) => {
        await s.enqueue([row('n2', 'hook', { nextAttemptAt: T + 5 }), row('n1'), row('n3', 'hook', { nextAttemptAt: T + 60_000 })]);
        const got = await s.claimDue('hook', T + 10, 10, lease('me'));
        expect(got.map((r) => r.id)).toEqual(['n1:hook', 'n2:hook']);
        expect(got[0]!.notification).toEqual(notification('n1'));
        expect(got[0]!.state).toBe('pending');
        expect(await s.nextDue('hook')).toBe(T);
      }),
    );

    it(
      'keeps the first row when an id is enqueued twice',
      withStore(async (s) => {
        await s.enqueue([row('n1')]);
        await s.markDelivered('n1:hook', T + 1);
        await s.enqueue([row('n1')]);
        expect(await s.claimDue('hook', T + 10, 10, lease('me'))).toEqual([]);
      }),
    );

    it(
      'a leased row is not handed to anyone until its lease ends; its owner can release it',
      withStore(async (s) => {
        await s.enqueue([row('n1')]);
        expect(await s.claimDue('hook', T, 1, lease('a', T + 1000))).toHaveLength(1);
        expect(await s.claimDue('hook', T + 999, 1, lease('b'))).toEqual([]);
        expect((await s.claimDue('hook', T + 1000, 1, lease('b', T + 5000))).map((r) => r.id)).toEqual(['n1:hook']);
        await s.releaseLeases('a'); // not a's any more
        expect(await s.claimDue('hook', T + 1001, 1, lease('c'))).toEqual([]);
        await s.releaseLeases('b');
        expect(await s.claimDue('hook', T + 1001, 1, lease('c'))).toHaveLength(1);
      }),
    );

    it(
      'rows of other notifiers are not claimed',
      withStore(async (s) => {
        await s.enqueue([row('n1', 'mail')]);
        expect(await s.claimDue('hook', T, 10, lease('me'))).toEqual([]);
        expect(await s.nextDue('hook')).toBeNull();
      }),
    );

    it(
      'a delivered row is never claimed again; stats count it',
      withStore(async (s) => {
        await s.enqueue([row('n1'), row('n2')]);
        await s.claimDue('hook', T, 1, lease('me'));
        await s.markDelivered('n1:hook', T + 7);
        await s.releaseLeases('me');
        expect((await s.claimDue('hook', T + 100_000, 10, lease('me'))).map((r) => r.id)).toEqual(['n2:hook']);
        await s.markFailed('n1:hook', { attempts: 1, nextAttemptAt: T, error: 'late', dead: false, at: T + 8 }); // ignored: delivered stays delivered
        const stats = await s.notifierStats();
        expect(stats).toEqual([{ notifier: 'hook', queued: 1, dead: 0, delivered: 1, lastError: null, lastErrorAt: null, lastDeliveredAt: T + 7 }]);
      }),
    );

    it(
      'a failed try reschedules; a dead one is listed newest first and never claimed',
      withStore(async (s) => {
        await s.enqueue([row('n1'), row('n2')]);
        await s.claimDue('hook', T, 2, lease('me'));
        await s.markFailed('n1:hook', { attempts: 1, nextAttemptAt: T + 2000, error: 'HTTP 503', dead: false, at: T + 1 });
        expect(await s.claimDue('hook', T + 1999, 10, lease('me'))).toEqual([]);
        const again = await s.claimDue('hook', T + 2000, 10, lease('me'));
        expect(again.map((r) => [r.id, r.attempts, r.lastError])).toEqual([['n1:hook', 1, 'HTTP 503']]);
        await s.markFailed('n1:hook', { attempts: 2, nextAttemptAt: T + 9000, error: 'HTTP 400', dead: true, at: T + 2001 });
        await s.markFailed('n2:hook', { attempts: 1, nextAttemptAt: T + 9000, error: 'refused', dead: true, at: T + 2002 });
        expect(await s.claimDue('hook', T + 100_000, 10, lease('me'))).toEqual([]);
        expect((await s.deadLetters({ limit: 10 })).map((r) => [r.id, r.state])).toEqual([
          ['n2:hook', 'dead'],
          ['n1:hook', 'dead'],
        ]);
        expect(await s.deadLetters({ notifier: 'mail', limit: 10 })).toEqual([]);
        const [stats] = await s.notifierStats();
        expect(stats).toMatchObject({ queued: 0, dead: 2, lastError: 'refused', lastErrorAt: T + 2002 });
        expect(await s.nextDue('hook')).toBeNull();
      }),
    );

    it(
      'prunes delivered and dead rows older than the cut, never pending ones',
      withStore(async (s) => {
        await s.enqueue([
          row('old', 'hook', { createdAt: T - 10 }),
          row('dead', 'hook', { createdAt: T - 10 }),
          row('pend', 'hook', { createdAt: T - 10 }),
          row('new'),
        ]);
        await s.markDelivered('old:hook', T);
        await s.markDelivered('new:hook', T);
        await s.markFailed('dead:hook', { attempts: 1, nextAttemptAt: T, error: 'x', dead: true, at: T });
        expect(await s.pruneOutbox(T)).toBe(2);
        expect((await s.claimDue('hook', T, 10, lease('me'))).map((r) => r.id)).toEqual(['pend:hook']);
        expect(await s.notifierStats()).toMatchObject([{ delivered: 1, dead: 0 }]);
      }),
    );

    it(
      'saves alerts by id, loads by state newest first, and hands out copies',
      withStore(async (s) => {
        await s.saveAlerts([alert('a', { updatedAt: T + 1 }), alert('b', { state: 'resolved', updatedAt: T + 2 }), alert('c', { updatedAt: T + 3 })]);
        await s.saveAlerts([alert('a', { updatedAt: T + 4, level: 'critical' })]);
        expect((await s.loadAlerts()).map((a) => a.id)).toEqual(['a', 'c', 'b']);
        expect((await s.loadAlerts({ states: ['firing'] })).map((a) => a.id)).toEqual(['a', 'c']);
        expect((await s.loadAlerts({ limit: 1 })).map((a) => a.id)).toEqual(['a']);
        const a = (await s.getAlert('a'))!;
        expect(a).toEqual(alert('a', { updatedAt: T + 4, level: 'critical' }));
        a.timeline.push({ at: 0, type: 'resolved' });
        expect((await s.getAlert('a'))!.timeline).toHaveLength(1);
        expect(await s.getAlert('nope')).toBeUndefined();
      }),
    );

    it(
      'keeps silences until deleted',
      withStore(async (s) => {
        const sil: Silence = {
          id: 's1',
          matchers: { service: ['api', 'web-*'] },
          start: null,
          end: T + 1000,
          comment: 'deploy',
          createdBy: 'ops',
          createdAt: T,
          source: 'api',
        };
        await s.putSilence(sil);
        await s.putSilence({ ...sil, id: 's2', end: T + 500 });
        expect((await s.listSilences()).map((x) => x.id)).toEqual(['s2', 's1']);
        expect((await s.listSilences())[1]).toEqual(sil);
        expect(await s.deleteSilence('s1')).toBe(true);
        expect(await s.deleteSilence('s1')).toBe(false);
        expect((await s.listSilences()).map((x) => x.id)).toEqual(['s2']);
      }),
    );

    if (options.reopen) {
      const reopen = options.reopen;
      it('keeps outbox rows, their state, alerts and silences across a reopen', async () => {
        const s = await open();
        await s.enqueue([row('n1'), row('n2')]);
        await s.markDelivered('n1:hook', T + 1);
        await s.claimDue('hook', T, 10, lease('me'));
        await s.saveAlerts([alert('a')]);
        await s.putSilence({ id: 's1', matchers: { service: ['api'] }, start: null, end: T + 1000, comment: '', createdBy: 'x', createdAt: T, source: 'api' });
        await s.close();
        const again = await reopen(s);
        try {
          expect(await again.claimDue('hook', T + 1, 10, lease('other'))).toEqual([]); // still leased by me
          await again.releaseLeases('me');
          expect((await again.claimDue('hook', T + 1, 10, lease('me'))).map((r) => r.id)).toEqual(['n2:hook']);
          expect(await again.getAlert('a')).toEqual(alert('a'));
          expect((await again.listSilences()).map((x) => x.id)).toEqual(['s1']);
        } finally {
          await again.close();
        }
      });
    }
  });
}
