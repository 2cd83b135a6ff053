import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LoggedTransition } from '../../src/server/event-log.js';
import { T0 } from './contract.js';
import { DOWN, startHistoryDaemon } from './history-harness.js';

const root = mkdtempSync(join(tmpdir(), 'healthmesh-history-feed-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let fileNo = 0;
const freshPath = (): string => join(root, `f${fileNo++}`, 'history.db');

describe('history feed (rollup and transition log → writer → store)', () => {
  it.each([false, true])(
    "stores each result with its check's and instance's score after it, its status change included (log attached first: %s)",
    async (logFirst) => {
      const d = await startHistoryDaemon(freshPath(), T0, { logFirst });
      try {
        await d.run(3000);
        d.outcomes['api/a1/tcp'] = DOWN;
        await d.run(1000);
        await d.writer.flush();
        const tcp = (await d.store.queryResults({ checkId: 'api/a1/tcp', order: 'desc', limit: 1 })).items[0]!;
        expect(tcp.status).toBe('UNHEALTHY');
        // UNHEALTHY scores 0: the score before this result (HEALTHY, ~100) would be stored if its transition were not counted.
        expect([tcp.checkScore, tcp.instanceScore]).toEqual([0, 0]);
        expect(d.rollup.checkScore({ id: 'api/a1/tcp', service: 'api', instance: 'a1' })).toBe(0);
        const http = (await d.store.queryResults({ checkId: 'api/a1/http', order: 'desc', limit: 1 })).items[0]!;
        expect([http.checkScore, http.instanceScore]).toEqual([d.rollup.checkScore({ id: 'api/a1/http', service: 'api', instance: 'a1' }), 0]);
        expect(http.checkScore).toBeGreaterThan(50);
        const a2 = (await d.store.queryResults({ service: 'api', instance: 'a2', order: 'desc', limit: 1 })).items[0]!;
        expect(a2.instanceScore).toBe(d.rollup.instanceScore('api', 'a2'));
        expect(a2.instanceScore).toBeGreaterThan(50);
      } finally {
        await d.stop();
      }
    },
  );

  it('stores instance and service transitions with the ids the log gave them, and uptime follows them', async () => {
    const d = await startHistoryDaemon(freshPath(), T0);
    const numbered: LoggedTransition[] = [];
    d.log.subscribeAll((t) => numbered.push(t));
    try {
      await d.run(2000);
      d.outcomes['api/a1/tcp'] = DOWN;
      await d.run(3000);
      delete d.outcomes['api/a1/tcp'];
      await d.run(2000);
      await d.writer.flush();
      const stored = await d.store.transitionsAfter(0, 1000);
      const since = stored.filter((t) => t.id! >= numbered[0]!.id);
      expect(since.map((t) => [t.id, t.level, t.service, t.instance, t.to])).toEqual(numbered.map((t) => [t.id, t.level, t.service, t.instance, t.to]));
      const a1 = stored.filter((t) => t.level === 'instance' && t.instance === 'a1');
      expect(a1.map((t) => `${t.from}→${t.to}`)).toEqual(['UNKNOWN→HEALTHY', 'HEALTHY→UNHEALTHY', 'UNHEALTHY→HEALTHY']);
      // The service's own rule (status/aggregate.ts) decides its steps; they are stored as the rollup made them.
      const api = stored.filter((t) => t.level === 'service' && t.service === 'api');
      expect(api.length).toBeGreaterThanOrEqual(2);
      expect(api.at(-1)!.to).toBe('HEALTHY');
      const [, down, up] = a1;
      const uptime = await d.store.queryUptime({ service: 'api', instance: 'a1', from: T0, to: d.clock.now() });
      expect(uptime).toMatchObject({ incidents: 1, recoveries: 1, mttrMs: up!.at - down!.at, openIncidentSince: null });
      expect(uptime.ms.UNHEALTHY).toBe(up!.at - down!.at);
      expect(uptime.ms.UNKNOWN).toBe(a1[0]!.at - T0);
    } finally {
      await d.stop();
    }
  });

  it('numbers on after a restart above every id before it, and counts the time the daemon was down as UNKNOWN', async () => {
    const path = freshPath();
    const first = await startHistoryDaemon(path, T0);
    await first.run(2000);
    const stoppedAt = first.clock.now();
    await first.stop();
    const lastBefore = first.log.lastId;

    const second = await startHistoryDaemon(path, T0 + 3_600_000);
    try {
      await second.run(2000);
      await second.writer.flush();
      const all = await second.store.transitionsAfter(0, 1000);
      const marks = all.filter((t) => t.reason === 'stopped');
      // Three instances and two services were known and not UNKNOWN when the first run stopped.
      expect(marks.map((t) => [t.level, t.service, t.instance, t.to, t.at])).toEqual([
        ['instance', 'api', 'a1', 'UNKNOWN', stoppedAt],
        ['instance', 'api', 'a2', 'UNKNOWN', stoppedAt],
        ['service', 'api', '', 'UNKNOWN', stoppedAt],
        ['instance', 'web', 'w1', 'UNKNOWN', stoppedAt],
        ['service', 'web', '', 'UNKNOWN', stoppedAt],
      ]);
      const secondRun = all.filter((t) => t.id! > lastBefore);
      expect(secondRun.length).toBeGreaterThan(0);
      expect(secondRun[0]!.at).toBeGreaterThanOrEqual(T0 + 3_600_000);
      expect(new Set(all.map((t) => t.id)).size).toBe(all.length);
      const uptime = await second.store.queryUptime({ service: 'web', from: T0, to: second.clock.now() });
      const firstUp = all.find((t) => t.level === 'service' && t.service === 'web')!.at;
      const backUp = secondRun.find((t) => t.level === 'service' && t.service === 'web')!.at;
      expect(uptime.ms.HEALTHY).toBe(stoppedAt - firstUp + (second.clock.now() - backUp));
      expect(uptime.ms.UNKNOWN).toBe(second.clock.now() - T0 - uptime.ms.HEALTHY);
    } finally {
      await second.stop();
    }
  });
});
