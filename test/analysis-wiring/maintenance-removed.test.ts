import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { maintenanceCalendar } from '../../src/alerts/maintenance-time.js';
import { parseConfig } from '../../src/config/load.js';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import { openStore } from '../../src/store/backends.js';
import type { HistoryStore } from '../../src/store/types.js';
import { uptimeExcluding } from '../../src/server/uptime-excluding.js';
import { HOUR, MIN, T } from './fixture.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function until(fn: () => Promise<boolean> | boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await fn())) {
    if (performance.now() > deadline) throw new Error(`${what} not met in time`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('maintenance windows and availability', () => {
  it('leaves maintenance time out of uptime, exact to the ms, from the stored transitions', async () => {
    const store: HistoryStore = await openStore(parseConfig('storage: { path: ":memory:" }\nservices: {}\n', { env: {} }).storage);
    cleanups.push(() => store.close());
    // api: HEALTHY from T−4h, UNHEALTHY in [T−2h, T−1h) (an upgrade), HEALTHY again until T.
    const svc = (at: number, from: string, to: string) => ({
      level: 'service' as const,
      checkId: '',
      service: 'api',
      instance: '',
      from: from as never,
      to: to as never,
      reason: 'rollup',
      output: '',
      at,
    });
    await store.write({
      results: [],
      transitions: [svc(T - 4 * HOUR, 'UNKNOWN', 'HEALTHY'), svc(T - 2 * HOUR, 'HEALTHY', 'UNHEALTHY'), svc(T - HOUR, 'UNHEALTHY', 'HEALTHY')],
    });
    const calendar = maintenanceCalendar(
      parseConfig(
        `services: {}
alerts:
  maintenance:
    - { name: upgrade, matchers: { service: api }, start: "${new Date(T - 2 * HOUR - 10 * MIN).toISOString()}", end: "${new Date(T - HOUR + 5 * MIN).toISOString()}" }
    - { name: nightly, matchers: { service: api, instance: a1 }, cron: "0 3 * * *", duration: 1h }
`,
        { env: {} },
      ).alerts!.maintenance,
    );
    const q = { service: 'api', from: T - 4 * HOUR, to: T };
    const plain = await store.queryUptime(q);
    expect(plain.uptimePercent).toBeCloseTo(75, 10);
    expect(plain.incidents).toBe(1);
    const ex = await uptimeExcluding(store, q, (labels, from, to) => calendar.intervals(labels, from, to));
    expect(ex.maintenanceMs).toBe(HOUR + 15 * MIN);
    expect(ex.ms).toEqual({ HEALTHY: 4 * HOUR - HOUR - 15 * MIN, DEGRADED: 0, UNHEALTHY: 0, UNKNOWN: 0 });
    expect(ex.uptimePercent).toBe(100);
    expect(ex.incidents).toBe(0);
    // The instance-only window covers the instance, never the whole service; cron windows recur.
    expect(calendar.intervals({ service: 'api' }, T - DAYS(2), T).length).toBe(1);
    // Nightly at 03:00 (T is 06:00): the 03:00 of T's day runs into the upgrade window, and they merge.
    expect(calendar.intervals({ service: 'api', instance: 'a1' }, T - DAYS(2), T)).toEqual([
      [T - DAYS(2) + 21 * HOUR, T - DAYS(2) + 22 * HOUR],
      [T - 3 * HOUR, T - HOUR + 5 * MIN],
    ]);
  });

  it('resolves the alerts of a check removed by a reload, and those of a rule gone after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hm-removed-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'healthmesh.yaml');
    const write = (instances: string, rules: string) =>
      writeFileSync(
        file,
        `
server: { listen: "127.0.0.1:0" }
storage: { path: "${join(dir, 'hm.db')}", flush_interval: 100ms }
defaults: { interval: 1h, rise: 1, fall: 1 }
services:
  db:
    instances: [${instances}]
    checks: [{ kind: ttl, ttl: 1h }]
alerts:
  notifiers: { log: { kind: log } }
  defaults: { notify: [log], group_wait: 0s }
  rules:
${rules}
`,
      );
    const rule = (name: string) => `    - { name: ${name}, when: { kind: status, is: UNHEALTHY } }`;
    write('{ id: d1, address: "127.0.0.1:9" }, { id: d2, address: "127.0.0.1:9" }', [rule('down'), rule('down-too')].join('\n'));
    const start = async () => {
      const { loadConfigFile } = await import('../../src/config/load.js');
      const d = await startDaemon({ config: await loadConfigFile(file, {}), configPath: file, logger: pino({ level: 'silent' }) });
      return d;
    };
    let daemon: Daemon = await start();
    let stopped = false;
    cleanups.push(() => (stopped ? undefined : daemon.stop()));
    const beat = (id: string, status: string) => daemon.server.inject({ method: 'PUT', url: `/api/v1/checks/db%2F${id}%2Fttl/ttl`, payload: { status } });
    await beat('d1', 'fail');
    await beat('d2', 'fail');
    const firing = async () =>
      ((await daemon.server.inject('/api/v1/alerts?state=firing')).json() as { items: Array<{ id: string; rule: string; labels: Record<string, string> }> })
        .items;
    await until(async () => (await firing()).length === 4, 5_000, 'four firing alerts');

    // d2 leaves the config: its alerts resolve at once instead of firing forever.
    write('{ id: d1, address: "127.0.0.1:9" }', [rule('down'), rule('down-too')].join('\n'));
    expect((await daemon.server.inject({ method: 'POST', url: '/api/v1/reload' })).statusCode).toBe(200);
    await until(async () => (await firing()).every((a) => a.labels.instance === 'd1'), 5_000, 'the d2 alerts resolved');
    const gone = ((await daemon.server.inject('/api/v1/alerts?state=resolved')).json() as { items: Array<{ labels: Record<string, string>; summary: string }> })
      .items;
    expect(gone.map((a) => a.labels.instance)).toEqual(['d2', 'd2']);
    expect(gone[0]!.summary).toMatch(/no longer monitored/);

    // The rule down-too leaves the config; after a restart its firing alert is resolved, not kept firing.
    const orphan = (await firing()).find((a) => a.rule === 'down-too')!;
    await daemon.alerts!.alerting.flush();
    await daemon.stop();
    stopped = true;
    write('{ id: d1, address: "127.0.0.1:9" }', rule('down'));
    daemon = await start();
    stopped = false;
    const stored = (await daemon.server.inject(`/api/v1/alerts/${orphan.id}`)).json() as { state: string; timeline: Array<{ type: string; detail?: string }> };
    await daemon.alerts!.alerting.flush();
    const again = (await daemon.server.inject(`/api/v1/alerts/${orphan.id}`)).json() as { state: string; timeline: Array<{ type: string; detail?: string }> };
    expect(again.state).toBe('resolved');
    expect(again.timeline.at(-1)).toMatchObject({ type: 'resolved', detail: 'rule "down-too" is no longer in the config' });
    expect(stored).toBeDefined();
    expect((await firing()).map((a) => a.rule)).toEqual(['down']);
  });
});

function DAYS(n: number): number {
  return n * 24 * HOUR;
}
