import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckSpec } from '../../src/core/check.js';
import { FakeClock } from '../../src/core/clock.js';
import { seeded } from '../../src/core/random.js';
import type { ProbeOutcome } from '../../src/core/result.js';
import { Engine } from '../../src/engine.js';
import { createMetrics, type Metrics } from '../../src/metrics/metrics.js';
import { FAMILIES } from '../../src/metrics/names.js';
import { StatusRollup } from '../../src/status/rollup.js';
import { eventually, parseExposition, promtoolCheckMetrics, startPrometheus, sampleValue, type RunningPrometheus } from '../helpers/prometheus.js';
import { fakeSpec } from '../helpers/spec.js';

/**
 * The exposition against the real thing: promtool's linter and a Prometheus
 * server scraping it (Debian's `prometheus` package). A missing binary fails
 * these tests; it never skips them.
 */

const OUTCOMES: Record<string, ProbeOutcome | number> = {
  'api/a1/http': { status: 'UNHEALTHY', reason: 'status_mismatch', output: 'GET http://a1:8080/health → 503 Service Unavailable' },
  'api/a2/http': { status: 'DEGRADED', reason: 'slow', output: 'answered in 900 ms' },
  'api/a1/tcp': 40,
  'api/a2/tcp': { status: 'UNHEALTHY', reason: 'connect_refused', output: 'connect ECONNREFUSED 10.0.0.2:8080' },
  'db/d1/tcp': 2,
  'db/d1/tls': { status: 'DEGRADED', reason: 'cert_expiring', output: 'certificate "CN=db" expires in 9 days' },
};

function spec(id: string): CheckSpec {
  const [service, instance, name] = id.split('/') as [string, string, string];
  return { ...fakeSpec(id, { intervalMs: 1000, edgeIntervalMs: 1000, unhealthyIntervalMs: 1000 }), service, instance, name, kind: name as CheckSpec['kind'] };
}

/** A real engine on a fake clock that has run every check a few times, with metrics on a private registry. */
async function populated(): Promise<{ engine: Engine; metrics: Metrics }> {
  const clock = new FakeClock(0);
  const engine = new Engine({
    clock,
    random: seeded(7),
    concurrency: 2,
    spreadFirstRun: false,
    runnerFor: (s) => ({
      run: () => {
        const o = OUTCOMES[s.id]!;
        if (typeof o === 'number') return new Promise((resolve) => clock.setTimeout(() => resolve({ status: 'HEALTHY', reason: 'ok', output: 'ok' }), o));
        return Promise.resolve(o);
      },
    }),
  });
  const rollup = new StatusRollup(() => 1);
  rollup.attach(engine.bus);
  const metrics = createMetrics({
    engine,
    rollup,
    storeStats: () => ({ lastFlushMs: 4.2, rows: 1200, dropped: 1, flushes: 12, flushMsTotal: 51 }),
  });
  for (const id of Object.keys(OUTCOMES)) engine.add(spec(id), 0);
  await clock.advanceAsync(5000, 1);
  return { engine, metrics };
}

describe('promtool check metrics', () => {
  it('finds no problem in the rendered exposition, process metrics included', async () => {
    const { engine, metrics } = await populated();
    const text = await metrics.render();
    await engine.stop();
    metrics.detach();
    // Every kind of family is present with samples, so the linter sees them all.
    for (const family of Object.values(FAMILIES)) expect(text, family.name).toContain(`# TYPE ${family.name} ${family.type}`);
    expect(text).toMatch(/^healthmesh_check_failures_total\{/m);
    expect(text).toMatch(/^healthmesh_check_duration_seconds_bucket\{/m);
    expect(text).toMatch(/^process_cpu_seconds_total /m);
    const { code, output } = promtoolCheckMetrics(text);
    expect(output).toBe(''); // lint warnings are failures too
    expect(code).toBe(0);
  });

  it('reports a problem when there is one (the check is not vacuous)', () => {
    const { code, output } = promtoolCheckMetrics('# HELP bad_total x\n# TYPE bad_total gauge\nbad_total 1\n');
    expect(code).not.toBe(0);
    expect(output).toMatch(/_total/);
  });
});

describe('a real Prometheus scraping /metrics', () => {
  let engine: Engine;
  let metrics: Metrics;
  let server: Server;
  let target: string;
  let prometheus: RunningPrometheus | undefined;
  let startError: unknown;
  let scrapes = 0;

  /** The running server; a start failure fails each test here (vitest would only skip them). */
  const running = (): RunningPrometheus => {
    if (!prometheus) throw startError ?? new Error('prometheus did not start');
    return prometheus;
  };

  beforeAll(async () => {
    ({ engine, metrics } = await populated());
    server = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      scrapes++;
      metrics.render().then(
        (body) => res.writeHead(200, { 'Content-Type': metrics.contentType }).end(body),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    target = `127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      prometheus = await startPrometheus({ targets: [target], scrapeIntervalSeconds: 1, readyTimeoutMs: 30_000 });
    } catch (err) {
      startError = err;
    }
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await engine?.stop();
    metrics?.detach();
  }, 30_000);

  it('stores healthmesh_check_runs_total per service and kind with our labels, and up is 1', async () => {
    const prom = running();
    const expected = parseExposition(await metrics.render());
    const runs = await eventually(
      async () => {
        const r = await prom.query(FAMILIES.checkRuns.name);
        return r.length > 0 ? r : undefined;
      },
      30_000,
      () => `${FAMILIES.checkRuns.name} in Prometheus (scrapes so far: ${scrapes})\n${prom.output()}`,
    );
    expect(runs.map((r) => `${r.metric.service}/${r.metric.kind}`).sort()).toEqual(['api/http', 'api/tcp', 'db/tcp', 'db/tls']);
    for (const { metric, value } of runs) {
      expect(metric).toEqual({ __name__: FAMILIES.checkRuns.name, job: 'healthmesh', instance: target, service: metric.service, kind: metric.kind });
      expect(Number(value[1])).toBe(sampleValue(expected, FAMILIES.checkRuns.name, { service: metric.service!, kind: metric.kind! }));
    }

    const up = await prom.query('up');
    expect(up).toHaveLength(1);
    expect(up[0]!.metric).toMatchObject({ job: 'healthmesh', instance: target });
    expect(up[0]!.value[1]).toBe('1');
  }, 45_000);

  it('keeps service_instance apart from the target’s instance label, one status 1 per check', async () => {
    const prom = running();
    const current = await prom.query(`${FAMILIES.checkStatus.name} == 1`);
    expect(current.map((r) => r.metric.check).sort()).toEqual(Object.keys(OUTCOMES).sort());
    for (const { metric } of current) {
      expect(metric.instance).toBe(target);
      expect(metric.service_instance).toBe(metric.check!.split('/')[1]);
      expect(metric).not.toHaveProperty('exported_instance');
    }
    const byStatus = Object.fromEntries(current.map((r) => [r.metric.check, r.metric.status]));
    expect(byStatus).toMatchObject({ 'api/a1/http': 'UNHEALTHY', 'api/a2/http': 'DEGRADED', 'db/d1/tcp': 'HEALTHY' });
    const failures = await prom.query(`sum by (reason) (${FAMILIES.checkFailures.name})`);
    expect(failures.map((r) => r.metric.reason).sort()).toEqual(['cert_expiring', 'connect_refused', 'slow', 'status_mismatch']);
    // Histograms arrive whole: a quantile can be computed from the buckets.
    const p50 = await prom.query(`histogram_quantile(0.5, sum by (le) (${FAMILIES.checkDuration.name}_bucket{service="api"}))`);
    expect(Number(p50[0]!.value[1])).toBeGreaterThanOrEqual(0);
  }, 30_000);
});
