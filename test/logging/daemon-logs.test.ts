import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.js';
import { formatLogLine } from '../../src/core/log-line.js';
import { createLogger } from '../../src/core/logger.js';
import { seeded } from '../../src/core/random.js';
import { loadConfigFile } from '../../src/config/load.js';
import { startDaemon } from '../../src/daemon.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { HistoryStore } from '../../src/store/types.js';
import { duplicateKeys } from '../helpers/json-keys.js';

const PINO_LEVELS = new Set([10, 20, 30, 40, 50, 60]);

/** Every JSON line written to it, as text. */
class Lines extends Writable {
  readonly lines: string[] = [];
  private rest = '';
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    const parts = (this.rest + chunk.toString()).split('\n');
    this.rest = parts.pop() ?? '';
    this.lines.push(...parts.filter((l) => l.length > 0));
    done();
  }
}

/** A real SQLite store whose first write and every maintenance run fail, as a full disk would. */
async function failingStore(): Promise<HistoryStore> {
  const store = await openSqliteStore({ path: ':memory:' });
  let writes = 0;
  return Object.assign(Object.create(store) as HistoryStore, {
    write: (batch: Parameters<HistoryStore['write']>[0]) => (writes++ === 0 ? Promise.reject(new Error('disk I/O error')) : store.write(batch)),
    maintain: () => Promise.reject(new Error('database is locked')),
    close: () => store.close(),
  });
}

const config = (listen: string) => `
server: { listen: "${listen}" }
storage: { flush_interval: 100ms }
defaults: { interval: 1s, rise: 1, fall: 1, flap: { window: 8, low: 0.1, high: 0.3 } }
services:
  db:
    instances: [{ id: d1, address: "127.0.0.1:9" }]
    checks: [{ kind: ttl, ttl: 1h }]
  api:
    deregister_after: 2s
    instances: [{ id: a1, address: "127.0.0.1:9" }, { id: a2, address: "127.0.0.1:9" }]
    checks: [{ kind: ttl, ttl: 1h }]
  found:
    discover: { dns_srv: { query: _x._tcp.test, server: "127.0.0.1:1", interval: 1s } }
    checks: [{ kind: tcp }]
`;

describe('the daemon log', () => {
  it('writes every kind of line as JSON with unique keys and a pino level, each one line on a terminal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hm-logs-'));
    const file = join(dir, 'hm.yaml');
    writeFileSync(file, config('127.0.0.1:0'));
    const out = new Lines();
    const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
    const daemon = await startDaemon({
      config: await loadConfigFile(file),
      configPath: file,
      logger: createLogger({ level: 'info', format: 'json' }, out),
      clock,
      random: seeded(7),
      store: await failingStore(),
    });
    const app = daemon.server;
    // Fake time in steps, with a real 2 ms after each for the I/O the timers start (the store's writes,
    // the SRV lookups); stops as soon as every awaited line is logged, or after `maxMs` of fake time.
    const logged = (pattern: RegExp) => out.lines.some((l) => pattern.test((JSON.parse(l) as { msg: string }).msg));
    const settleUntil = async (patterns: RegExp[], maxMs: number, stepMs = 100) => {
      for (let t = 0; t < maxMs && !patterns.every(logged); t += stepMs) {
        clock.advance(stepMs);
        await new Promise((r) => setTimeout(r, 2));
      }
    };
    const beat = async (id: string, status: string) => {
      const res = await app.inject({ method: 'PUT', url: `/api/v1/checks/${encodeURIComponent(id)}/ttl`, payload: { status } });
      expect(res.statusCode).toBe(200);
    };
    try {
      // check, service and mesh transitions, both ways
      for (const id of ['db/d1/ttl', 'api/a1/ttl', 'api/a2/ttl']) await beat(id, 'pass');
      await beat('db/d1/ttl', 'fail');
      await beat('db/d1/ttl', 'pass');
      // flapping, then steady
      for (let i = 0; i < 8; i++) await beat('db/d1/ttl', i % 2 ? 'pass' : 'warn');
      for (let i = 0; i < 12; i++) await beat('db/d1/ttl', 'pass');
      // an outlier ejection from reported 5xx, then panic with both instances down
      const reports = Array.from({ length: 5 }, () => ({ instance: 'a1', ok: false, latency_ms: 3, status: 503 }));
      expect((await app.inject({ method: 'POST', url: '/api/v1/services/api/balancer/reports', payload: { reports } })).statusCode).toBe(202);
      await beat('api/a1/ttl', 'fail');
      await beat('api/a2/ttl', 'fail');
      // a registration that stays UNHEALTHY is deregistered
      const reg = await app.inject({
        method: 'POST',
        url: '/api/v1/instances',
        payload: { service: 'api', id: 'r1', address: '127.0.0.1:1', checks: [{ kind: 'tcp' }] },
      });
      expect(reg.statusCode).toBeLessThan(300);
      await settleUntil([/^history flush failed/, /^SRV lookup for found failed/, /^deregistering api\/r1/], 4000); // within 2 s deregister_after and a 1 s interval
      await settleUntil([/^store maintenance failed/], 61_000, 1000); // hourly-ish job: every 60 s; the 1 s steps keep the 1 s timers in order
      writeFileSync(file, config('127.0.0.1:1'));
      await daemon.reload();
    } finally {
      await daemon.stop().catch(() => {}); // the writer's last flush may meet the failing write
    }

    const records = out.lines.map((line) => {
      expect(duplicateKeys(line), line).toEqual([]);
      const record = JSON.parse(line) as Record<string, unknown>;
      expect(PINO_LEVELS.has(record.level as number), line).toBe(true);
      expect(typeof record.msg, line).toBe('string');
      const pretty = formatLogLine(record, false);
      expect(pretty, line).not.toContain('\n');
      expect(pretty).toContain(record.msg as string);
      return record;
    });
    const messages = records.map((r) => r.msg as string);
    const kinds: Record<string, RegExp> = {
      start: /^healthmesh .* watching \d+ checks, serving http/,
      checkWorse: /^db\/d1\/ttl HEALTHY → UNHEALTHY /,
      checkBetter: /^db\/d1\/ttl UNHEALTHY → HEALTHY /,
      flapping: /^db\/d1\/ttl is flapping/,
      stoppedFlapping: /^db\/d1\/ttl stopped flapping/,
      service: /^service db HEALTHY → UNHEALTHY/,
      mesh: /^mesh HEALTHY → UNHEALTHY/,
      ejected: /^api\/a1 ejected by consecutive_5xx/,
      panic: /^api enters panic mode/,
      flushFailed: /^history flush failed/,
      maintenanceFailed: /^store maintenance failed/,
      srvFailed: /^SRV lookup for found failed/,
      deregistered: /^deregistering api\/r1/,
      listenChanged: /^server.listen changed/,
      reloaded: /^config reloaded/,
    };
    for (const [kind, pattern] of Object.entries(kinds))
      expect(
        messages.some((m) => pattern.test(m)),
        `${kind}: ${pattern}`,
      ).toBe(true);

    // the terminal line of a transition is the message alone, as the README shows it
    const transition = records.find((r) => kinds.checkWorse!.test(r.msg as string))!;
    expect(transition).toMatchObject({ check: 'db/d1/ttl', from: 'HEALTHY', to: 'UNHEALTHY', reason: 'ttl_fail' });
    expect(formatLogLine(transition, false)).toMatch(/^\d\d:\d\d:\d\d WARN db\/d1\/ttl HEALTHY → UNHEALTHY ttl_fail( \(.+\))?$/);
    const service = records.find((r) => kinds.service!.test(r.msg as string))!;
    expect(service).toMatchObject({ level: 40, scope: 'service', id: 'db' });
  });
});
