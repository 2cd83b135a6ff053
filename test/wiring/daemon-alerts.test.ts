import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import { waitFor } from '../helpers/wait.js';

// Real clock here: the webhook is delivered over a real socket by the outbox, whose timeouts fake time would outrun.
const until = (cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string) => waitFor(cond, { timeoutMs, what });

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => resolve(body));
  });

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('alerting in the daemon', () => {
  it('fires on a real transition, delivers to a webhook, lists the alert, streams it, counts it, and resolves', async () => {
    const received: Array<{ headers: IncomingMessage['headers']; body: { status?: string; alerts?: Array<{ status: string }> } }> = [];
    const receiver: Server = createServer(async (req, res) => {
      received.push({ headers: req.headers, body: JSON.parse(await readBody(req)) });
      res.end('ok');
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => receiver.close(r)));
    const port = (receiver.address() as AddressInfo).port;
    const config = parseConfig(
      `
server: { listen: "127.0.0.1:0", token: "a-token-of-enough-length" }
storage: { path: ":memory:", flush_interval: 100ms }
defaults: { interval: 1h, rise: 1, fall: 1 }
services:
  db:
    instances: [{ id: d1, address: "127.0.0.1:9" }]
    checks: [{ kind: ttl, ttl: 1h }]
alerts:
  defaults: { group_wait: 0s, group_interval: 1s }
  notifiers:
    hook: { kind: webhook, url: "http://127.0.0.1:${port}/hook", secret: "a-webhook-secret" }
  rules:
    - name: db-down
      scope: instance
      when: { kind: status, is: UNHEALTHY }
      level: critical
      notify: [hook]
`,
      { env: {} },
    );
    const daemon: Daemon = await startDaemon({ config, logger: pino({ level: 'silent' }) });
    cleanups.push(() => daemon.stop());
    const base = `http://127.0.0.1:${daemon.address.port}`;
    const sse = new AbortController();
    cleanups.push(async () => sse.abort());
    let streamed = '';
    void fetch(`${base}/api/v1/events`, { signal: sse.signal })
      .then(async (res) => {
        for await (const chunk of res.body!) streamed += Buffer.from(chunk).toString();
      })
      .catch(() => {});
    const beat = (status: string) =>
      daemon.server.inject({
        method: 'PUT',
        url: '/api/v1/checks/db%2Fd1%2Fttl/ttl',
        payload: { status },
        headers: { authorization: 'Bearer a-token-of-enough-length' },
      });
    expect((await beat('pass')).statusCode).toBe(200);
    // Alert events are live only: the stream must be subscribed (its first line sent) before the alert fires.
    await until(() => streamed.startsWith('retry:'), 5_000, 'the event stream to open');
    expect((await beat('fail')).statusCode).toBe(200);

    await until(() => received.some((r) => r.body.status === 'firing'), 10_000, 'the firing notification');
    const firing = received.find((r) => r.body.status === 'firing')!;
    expect(firing.headers['x-healthmesh-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
    const list = (await daemon.server.inject('/api/v1/alerts?state=firing')).json() as { items: Array<{ id: string; rule: string; level: string }> };
    expect(list.items).toEqual([expect.objectContaining({ rule: 'db-down', level: 'critical' })]);
    const timeline = async () =>
      ((await daemon.server.inject(`/api/v1/alerts/${list.items[0]!.id}`)).json() as { timeline: Array<{ type: string }> }).timeline.map((e) => e.type);
    await until(async () => (await timeline()).includes('delivered'), 5_000, 'the delivery on the timeline');
    expect(await timeline()).toEqual(['pending', 'firing', 'queued', 'delivered']);
    await until(() => streamed.includes('event: alert'), 5_000, 'an alert event on the stream');
    expect(streamed).toMatch(/event: alert\ndata: \{"id":"[^"]+","rule":"db-down","level":"critical"/);
    const metrics = (await daemon.server.inject('/metrics')).body;
    expect(metrics).toContain('healthmesh_alerts_firing{level="critical"} 1');
    expect(metrics).toMatch(/healthmesh_alert_notifications_total\{notifier="hook",outcome="delivered"\} [1-9]/);
    const doc = (await daemon.server.inject('/api/v1/openapi.json')).json() as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/alerts', '/api/v1/alerts/{id}', '/api/v1/silences', '/api/v1/notifiers']));

    expect((await beat('pass')).statusCode).toBe(200);
    await until(() => received.some((r) => r.body.status === 'resolved'), 10_000, 'the resolve notice');
    expect((await daemon.server.inject('/metrics')).body).toContain('healthmesh_alerts_firing{level="critical"} 0');
  });

  it('has no alert routes or families without an alerts: section', async () => {
    const daemon = await startDaemon({
      config: parseConfig('server: { listen: "127.0.0.1:0" }\nstorage: { path: ":memory:" }\nservices: {}\n', { env: {} }),
      logger: pino({ level: 'silent' }),
    });
    cleanups.push(() => daemon.stop());
    expect(daemon.alerts).toBeNull();
    expect((await daemon.server.inject('/api/v1/alerts')).statusCode).toBe(404);
    expect((await daemon.server.inject('/metrics')).body).not.toContain('healthmesh_alerts_firing');
  });
});
