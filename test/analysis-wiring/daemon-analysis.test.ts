import { Ajv } from 'ajv';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import { promtoolCheckMetrics } from '../helpers/prometheus.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const yaml = `
server: { listen: "127.0.0.1:0" }
storage: { path: ":memory:", flush_interval: 100ms }
defaults: { interval: 1h, rise: 1, fall: 1 }
services:
  db:
    instances: [{ id: d1, address: "127.0.0.1:9" }]
    checks: [{ kind: ttl, ttl: 1h }]
    slo: { objective: 99.9, window: 30d }
  web:
    instances: [{ id: w1, address: "127.0.0.1:9" }]
    checks: [{ kind: ttl, ttl: 1h }]
`;

describe('the analysis API of the daemon', () => {
  it('answers for a service, an instance and a check, each part null with its reason, as its OpenAPI schema says', async () => {
    const daemon: Daemon = await startDaemon({ config: parseConfig(yaml, { env: {} }), logger: pino({ level: 'silent' }) });
    cleanups.push(() => daemon.stop());
    expect((await daemon.server.inject({ method: 'PUT', url: '/api/v1/checks/db%2Fd1%2Fttl/ttl', payload: { status: 'pass' } })).statusCode).toBe(200);

    const doc = (await daemon.server.inject('/api/v1/openapi.json')).json() as {
      paths: Record<string, unknown>;
      components: { schemas: Record<string, object> };
    };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/v1/services/{service}/analysis', '/api/v1/instances/{id}/analysis', '/api/v1/checks/{id}/analysis']),
    );
    const validate = new Ajv({ strict: false }).compile(doc.components.schemas.Analysis!);

    const service = await daemon.server.inject('/api/v1/services/db/analysis');
    expect(service.statusCode).toBe(200);
    const s = service.json();
    expect(validate(s), JSON.stringify(validate.errors)).toBe(true);
    expect(s).toMatchObject({ level: 'service', id: 'db', series: 'score', trend: null, forecast: null, anomalies: null, maintenance: null });
    expect(s.reasons.trend).toMatch(/no instance has a trend yet: the longest score history is 0 closed minutes, at least 10 needed/);
    expect(s.slo).toMatchObject({ kind: 'availability', objective: 0.999, objectivePercent: 99.9, windowMs: 30 * 86_400_000, budgetRemaining: 1 });
    expect(s.reasons.slo).toBeNull();

    const web = (await daemon.server.inject('/api/v1/services/web/analysis')).json();
    expect(validate(web)).toBe(true);
    expect(web.slo).toBeNull();
    expect(web.reasons.slo).toBe('no slo: in services.web of the config');

    for (const url of [
      '/api/v1/instances/db/d1/analysis',
      '/api/v1/instances/d1/analysis',
      '/api/v1/checks/db/d1/ttl/analysis',
      '/api/v1/checks/db%2Fd1%2Fttl/analysis',
    ]) {
      const res = await daemon.server.inject(url);
      expect(res.statusCode, url).toBe(200);
      expect(validate(res.json()), `${url}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
    const check = (await daemon.server.inject('/api/v1/checks/db/d1/ttl/analysis')).json();
    expect(check).toMatchObject({ level: 'check', id: 'db/d1/ttl', series: 'latency_ms', slo: null, reasons: { slo: 'SLOs are kept per service' } });

    for (const url of ['/api/v1/services/nope/analysis', '/api/v1/instances/nope/analysis', '/api/v1/checks/a/b/c/analysis']) {
      expect((await daemon.server.inject(url)).statusCode, url).toBe(404);
    }

    const uptime = await daemon.server.inject('/api/v1/services/db/uptime?exclude_maintenance=true');
    expect(uptime.statusCode).toBe(200);
    expect(uptime.json()).toMatchObject({ service: 'db', excludeMaintenance: true, maintenanceMs: 0 });
    const badFlag = await daemon.server.inject('/api/v1/services/db/uptime?exclude_maintenance=maybe');
    expect(badFlag.statusCode).toBe(400);
    expect(badFlag.json().message ?? badFlag.body).toMatch(/exclude_maintenance: "maybe" is not true or false/);

    const metrics = (await daemon.server.inject('/metrics')).body;
    expect(metrics).toContain('healthmesh_analysis_series');
    expect(promtoolCheckMetrics(metrics)).toMatchObject({ code: 0 });
  });
});
