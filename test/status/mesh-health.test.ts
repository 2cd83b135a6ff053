import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { FakeClock } from '../../src/core/clock.js';
import { startDaemon } from '../../src/daemon.js';
import { advanceUntil } from '../helpers/wait.js';

// billing: one instance whose TTL check is warned (DEGRADED); reports: not critical, its only
// instance refuses connections; api: critical, healthy until the test stops its heartbeat.
const YAML = `
server: { listen: "127.0.0.1:0" }
storage: { path: ":memory:" }
defaults: { interval: 100ms, rise: 1, fall: 1 }
services:
  billing:
    instances: [{ id: b1, address: "127.0.0.1:9" }]
    checks: [{ kind: ttl, ttl: 1h }]
  reports:
    critical: false
    instances: [{ id: r1, address: "127.0.0.1:1" }]
    checks: [{ kind: tcp }]
  api:
    instances: [{ id: a1, address: "127.0.0.1:9" }]
    checks: [{ kind: ttl, ttl: 1h }]
`;

describe('mesh /health over the real daemon', () => {
  it('stays 200 (warn) with a lone DEGRADED instance and a non-critical service down, 503 once a critical one fails', async () => {
    // On a FakeClock: TTL beats and roll-ups need no wall time; the refused tcp check ends UNHEALTHY
    // whether by the refusal or by a fake-time timeout, so fake time running ahead cannot change the verdict.
    const clock = new FakeClock(1_700_000_000_000);
    const until = (cond: () => boolean) => advanceUntil(clock, cond, { maxMs: 1000 });
    const daemon = await startDaemon({ config: parseConfig(YAML, { env: {} }), logger: pino({ level: 'silent' }), clock });
    try {
      const base = `http://127.0.0.1:${daemon.address.port}`;
      const beat = (id: string, status: string) =>
        fetch(`${base}/api/v1/checks/${encodeURIComponent(id)}/ttl`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ status }),
        });
      expect((await beat('billing/b1/ttl', 'warn')).status).toBe(200);
      expect((await beat('api/a1/ttl', 'pass')).status).toBe(200);
      await until(() => daemon.rollup.service('reports') === 'UNHEALTHY' && daemon.rollup.service('billing') === 'DEGRADED');

      const ok = await fetch(`${base}/health`);
      expect(ok.status).toBe(200);
      const body = (await ok.json()) as { status: string; checks: Record<string, Array<{ status: string }>> };
      expect(body.status).toBe('warn');
      expect(body.checks['billing:status']?.[0]?.status).toBe('warn');
      expect(body.checks['reports:status']?.[0]?.status).toBe('fail');

      expect((await beat('api/a1/ttl', 'fail')).status).toBe(200);
      await until(() => daemon.rollup.meshStatus() === 'UNHEALTHY');
      expect((await fetch(`${base}/health`)).status).toBe(503);
    } finally {
      await daemon.stop();
    }
  });
});
