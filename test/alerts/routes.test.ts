import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { alertRoutes } from '../../src/server/alert-routes.js';
import { errorHandler } from '../../src/server/errors.js';
import { harness, HOUR, SEC, T0, type Harness, section } from './harness.js';

const TOKEN = 'a-long-enough-api-token';
const auth = { authorization: `Bearer ${TOKEN}` };
let h: Harness | undefined;
let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  await h?.stop();
  h = app = undefined;
});

async function setup(options: { token?: string; protectReads?: boolean } = { token: TOKEN }) {
  h = await harness(
    section(
      [
        { name: 'down', when: { kind: 'status' }, level: 'critical' },
        { name: 'svc', scope: 'service', when: { kind: 'status' } },
      ],
      {
        notifiers: { hook: { kind: 'webhook', url: 'http://127.0.0.1:9/hook?token=SECRET-IN-URL', secret: 'webhook-secret-0123456789' } },
      },
    ),
  );
  app = Fastify();
  app.setErrorHandler(errorHandler);
  await app.register(alertRoutes, { alerts: h.alerting.api, now: () => h!.clock.now(), ...options });
  h.result('api/a1/http', 'UNHEALTHY');
  h.result('api/a2/http', 'UNHEALTHY');
  h.serviceStatus('db', 'UNHEALTHY');
  await h.advance(SEC);
  h.result('api/a2/http', 'HEALTHY');
  await h.advance(SEC);
  return { h, app };
}

describe('alert routes (in process)', () => {
  it('lists alerts with filters and pages, without timelines', async () => {
    const { app } = await setup();
    const all = (await app.inject('/api/v1/alerts')).json();
    expect(all.items).toHaveLength(3);
    expect(all.items[0].timeline).toBeUndefined();
    expect(all.items[0].timelineEntries).toBeGreaterThan(0);
    const firing = (await app.inject('/api/v1/alerts?state=firing')).json();
    expect(firing.items.map((a: { labels: { instance?: string; service: string } }) => a.labels.instance ?? a.labels.service).sort()).toEqual(['a1', 'db']);
    expect((await app.inject('/api/v1/alerts?level=critical&state=firing,resolved')).json().items).toHaveLength(2);
    expect((await app.inject('/api/v1/alerts?rule=svc')).json().items).toHaveLength(1);
    expect((await app.inject('/api/v1/alerts?service=api')).json().items).toHaveLength(2);
    const p1 = (await app.inject('/api/v1/alerts?limit=2')).json();
    const p2 = (await app.inject(`/api/v1/alerts?limit=2&cursor=${p1.nextCursor}`)).json();
    expect(p2.nextCursor).toBeNull();
    expect([...p1.items, ...p2.items].map((a: { id: string }) => a.id).sort()).toEqual(all.items.map((a: { id: string }) => a.id).sort());
  });

  it('rejects a bad filter naming the field', async () => {
    const { app } = await setup();
    const res = await app.inject('/api/v1/alerts?state=burning');
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/^state/);
  });

  it('shows one alert with its timeline: fired, queued, delivered, resolved', async () => {
    const { app } = await setup();
    const a2 = (await app.inject('/api/v1/alerts?state=resolved')).json().items[0];
    const res = await app.inject(`/api/v1/alerts/${a2.id}`);
    expect(res.statusCode).toBe(200);
    const types = res.json().timeline.map((e: { type: string }) => e.type);
    expect(types).toEqual(expect.arrayContaining(['pending', 'firing', 'queued', 'delivered', 'resolved']));
    expect(types.indexOf('firing')).toBeLessThan(types.indexOf('delivered'));
    expect((await app.inject('/api/v1/alerts/nope')).statusCode).toBe(404);
  });

  it('silences: create needs the token, then list and delete', async () => {
    const { app, h } = await setup();
    const body = { matchers: { service: 'api' }, duration: '2h', comment: 'deploy' };
    expect((await app.inject({ method: 'POST', url: '/api/v1/silences', payload: body })).statusCode).toBe(401);
    const created = await app.inject({ method: 'POST', url: '/api/v1/silences', payload: body, headers: auth });
    expect(created.statusCode).toBe(201);
    const s = created.json();
    expect(s).toMatchObject({ matchers: { service: ['api'] }, end: T0 + 2 * SEC + 2 * HOUR, comment: 'deploy', source: 'api' });
    expect((await app.inject('/api/v1/silences')).json().items.map((x: { id: string }) => x.id)).toEqual([s.id]);
    expect((await app.inject({ method: 'DELETE', url: `/api/v1/silences/${s.id}` })).statusCode).toBe(401);
    expect((await app.inject({ method: 'DELETE', url: `/api/v1/silences/${s.id}`, headers: auth })).statusCode).toBe(204);
    expect((await app.inject({ method: 'DELETE', url: `/api/v1/silences/${s.id}`, headers: auth })).statusCode).toBe(404);
    expect(await h.store.listSilences()).toEqual([]);
  });

  it('a bad silence names the field', async () => {
    const { app } = await setup();
    const res = await app.inject({ method: 'POST', url: '/api/v1/silences', payload: { matchers: {}, duration: '5 parsecs' }, headers: auth });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toContain('matchers');
    expect(res.json().message).toContain('duration');
  });

  it('without a configured token silences cannot be changed at all', async () => {
    const { app } = await setup({});
    const res = await app.inject({ method: 'POST', url: '/api/v1/silences', payload: { matchers: { service: 'api' }, duration: '1h' } });
    expect(res.statusCode).toBe(401);
    expect(res.json().message).toContain('server.token');
    expect((await app.inject('/api/v1/alerts')).statusCode).toBe(200);
  });

  it('protect_reads: reads need the token too', async () => {
    const { app } = await setup({ token: TOKEN, protectReads: true });
    for (const url of ['/api/v1/alerts', '/api/v1/silences', '/api/v1/notifiers']) {
      expect((await app.inject(url)).statusCode).toBe(401);
      expect((await app.inject({ url, headers: auth })).statusCode).toBe(200);
    }
  });

  it('notifier status: queue depth, dead letters and last error, never the settings', async () => {
    const { app } = await setup();
    const res = await app.inject('/api/v1/notifiers');
    const [hook] = res.json().items;
    expect(hook).toMatchObject({ notifier: 'hook', kind: 'webhook', queued: 0, dead: 0, delivered: 2, deadLetters: [] });
    expect(res.body).not.toContain('SECRET-IN-URL');
    expect(res.body).not.toContain('webhook-secret');
  });
});
