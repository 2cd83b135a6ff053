/**
 * Failure drill: three real upstream processes behind `healthmesh proxy`
 * (daemon + proxy in process, real sockets on 127.0.0.1) under a bounded
 * load loop. One is made slow, one flaky (503 half the time), and one
 * is killed with SIGKILL while requests are in flight. With retries on, the
 * failed share stays below 0.1 %; least-latency sends the slow one less; the
 * flaky one is ejected and comes back once it behaves.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { Pool } from 'undici';
import { describe, expect, it } from 'vitest';
import { realClock } from '../../src/core/clock.js';
import { parseConfig } from '../../src/config/load.js';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import { startProxy } from '../../src/proxy/proxy.js';
import { useCleanups } from '../helpers/cleanups.js';
import { parseExposition, promtoolCheckMetrics, sampleValue } from '../helpers/prometheus.js';
import { waitFor } from '../helpers/wait.js';
import { engine, ENGINES, useEngine } from './helpers.js';

const { cleanups } = useCleanups();
const SERVER = fileURLToPath(new URL('../fixtures/upstream/server.mjs', import.meta.url));

interface Upstream {
  name: string;
  port: number;
  child: ChildProcess;
  control(query: string): Promise<void>;
}

async function startUpstream(name: string): Promise<Upstream> {
  const child = spawn(process.execPath, [SERVER, name], { stdio: ['ignore', 'pipe', 'inherit'] });
  cleanups.push(() => void child.kill('SIGKILL'));
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
  });
  const control = async (query: string): Promise<void> => {
    const res = await fetch(`http://127.0.0.1:${port}/control?${query}`);
    await res.text();
  };
  return { name, port, child, control };
}

/** Drive `count` GETs through the proxy, `concurrency` at a time, never past `deadline`. */
async function drive(pool: Pool, count: number, concurrency: number, deadline: number, onEach?: (i: number) => void) {
  const served: Record<string, number> = {};
  let failures = 0;
  let sent = 0;
  const statuses: Record<number, number> = {};
  const worker = async (): Promise<void> => {
    while (sent < count && Date.now() < deadline) {
      const i = sent++;
      onEach?.(i);
      try {
        const res = await pool.request({ method: 'GET', path: '/api/work', headersTimeout: 5_000, bodyTimeout: 5_000 });
        const text = await res.body.text();
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
        if (res.statusCode === 200) served[text.trim()] = (served[text.trim()] ?? 0) + 1;
        else failures++;
      } catch {
        failures++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { served, failures, sent, statuses };
}

/**
 * The active checks' timeout is 2 s, not 500 ms: the load loop, the proxy and the daemon share this
 * process, and on a loaded machine its event loop can lag past 500 ms, failing healthy upstreams' checks
 * twice (fall 2) and moving traffic for reasons the drill does not test. A killed upstream is still seen
 * at once (connection refused), and the outlier detector works on the proxied requests, not on checks.
 */
function config(ports: number[]): string {
  return `
server: { listen: "127.0.0.1:0" }
storage: { path: ":memory:" }
defaults: { interval: 200ms, timeout: 2s, rise: 2, fall: 2, jitter: 0.1 }
services:
  api:
    instances:
${ports.map((p, i) => `      - { id: u${i + 1}, address: "127.0.0.1:${p}" }`).join('\n')}
    checks: [{ kind: http, path: /health, reuse_connections: true }]
    balancer:
      picker: least-latency
      use_score: false
      breaker: { consecutive_failures: 5, open_for: 1s }
      outlier:
        consecutive_5xx: 3
        interval: 1s
        base_ejection_time: 2s
        max_ejection_time: 6s
        max_ejection_percent: 30
        uneject_on_active_healthy: false
proxy:
  listen: "127.0.0.1:0"
  timeout: 2s
  routes: [{ path_prefix: /api, service: api, strip_prefix: true }]
  retries: { attempts: 2, budget_percent: 50, min_per_second: 50 }
`;
}

describe.each(ENGINES)('%s engine', (eng) => {
  useEngine(eng);

  describe('failure drill through the proxy', () => {
    it('kills one upstream, slows one, makes one flaky: under 0.1 % of requests fail, traffic and ejections follow', { timeout: 90_000 }, async () => {
      const [u1, u2, u3] = await Promise.all([startUpstream('u1'), startUpstream('u2'), startUpstream('u3')]);
      const cfg = parseConfig(config([u1!.port, u2!.port, u3!.port]), { env: {} });
      const logger = pino({ level: 'silent' });
      const daemon: Daemon = await startDaemon({ config: cfg, logger });
      cleanups.push(() => daemon.stop());
      const proxy = await startProxy({
        engine: engine(),
        config: cfg.proxy!,
        upstreams: daemon.balancers,
        clock: realClock,
        logger,
        registry: daemon.metricsRegistry,
      });
      cleanups.push(() => proxy.close());
      const pool = new Pool(`http://127.0.0.1:${proxy.address.port}`, { connections: 16 });
      cleanups.push(() => pool.close());
      const balancer = daemon.balancers.balancer('api')!;
      const member = (id: string) => balancer.snapshot().instances.find((m) => m.id === id)!;
      await waitFor(() => balancer.snapshot().instances.every((m) => m.usable), { timeoutMs: 10_000, what: 'all three upstreams healthy' });
      const deadline = Date.now() + 70_000;
      let total = 0;
      let failed = 0;
      const tally = (r: { sent: number; failures: number }) => {
        total += r.sent;
        failed += r.failures;
      };

      // 1. Slow: u2 answers 25 ms late; least-latency sends it less than either fast one.
      await u2!.control('delay=25');
      const slow = await drive(pool, 1500, 8, deadline);
      tally(slow);
      expect(slow.served.u2 ?? 0).toBeLessThan((slow.served.u1 ?? 0) / 2);
      expect(slow.served.u2 ?? 0).toBeLessThan((slow.served.u3 ?? 0) / 2);
      await u2!.control('delay=0');

      // 2. Flaky: u3 answers 503 half the time; it is ejected, retries hide the 503s.
      await u3!.control('mode=flaky');
      const flaky = await drive(pool, 1500, 8, deadline);
      tally(flaky);
      const ejected = member('u3').outlier!;
      expect(ejected.timesEjected).toBeGreaterThanOrEqual(1);
      expect(ejected.detector).toBe('consecutive_5xx');

      // 3. It behaves again: after its ejection time it is back in rotation and gets traffic.
      await u3!.control('mode=normal');
      await waitFor(() => member('u3').usable && member('u3').inRotation, { timeoutMs: 15_000, what: 'u3 back in rotation' });
      const before = member('u3').picks;
      const back = await drive(pool, 600, 8, deadline);
      tally(back);
      expect(member('u3').picks - before).toBeGreaterThan(50);

      // 4. Killed: u1 gets SIGKILL while requests are in flight; retries carry them elsewhere.
      const killed = await drive(pool, 2500, 16, deadline, (i) => {
        if (i === 500) u1!.child.kill('SIGKILL');
      });
      tally(killed);
      expect(killed.served.u1 ?? 0).toBeLessThan(700);
      await waitFor(() => !member('u1').usable, { timeoutMs: 5_000, what: 'u1 out of rotation' });

      // The figures behind the verdict, for the issue note and for whoever debugs a failure.
      console.info(
        JSON.stringify({
          drill: {
            total,
            failed,
            slow: slow.served,
            flaky: { ...flaky.served, statuses: flaky.statuses },
            back: back.served,
            killed: { ...killed.served, statuses: killed.statuses },
            ejections: member('u3').outlier!.timesEjected,
            stats: proxy.stats(),
          },
        }),
      );
      expect(total).toBeGreaterThan(5000); // the loop ran to its count, not to its deadline
      expect(failed / total).toBeLessThan(0.001);

      // What happened is visible in /metrics, and the exposition is valid.
      const text = await fetch(`http://127.0.0.1:${daemon.address.port}/metrics`).then((r) => r.text());
      const samples = parseExposition(text);
      expect(
        sampleValue(samples, 'healthmesh_balancer_ejections_total', { service: 'api', service_instance: 'u3', detector: 'consecutive_5xx' }),
      ).toBeGreaterThanOrEqual(1);
      expect(sampleValue(samples, 'healthmesh_proxy_retries_total', { service: 'api' })).toBeGreaterThan(0);
      expect(sampleValue(samples, 'healthmesh_proxy_upstream_requests_total', { service: 'api', service_instance: 'u2', code: '2xx' })).toBeGreaterThan(100);
      const check = promtoolCheckMetrics(text);
      expect(check.output).toBe('');
    });
  });
});
