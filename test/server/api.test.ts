import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { CheckDeps, CheckRunner, CheckSpec } from '../../src/core/check.js';
import { FakeClock, flushMicrotasks } from '../../src/core/clock.js';
import { seeded } from '../../src/core/random.js';
import type { ProbeOutcome } from '../../src/core/result.js';
import { parseConfig } from '../../src/config/load.js';
import { Engine } from '../../src/engine.js';
import { Registry } from '../../src/registry/registry.js';
import { buildServer } from '../../src/server/app.js';
import { TransitionLog } from '../../src/server/event-log.js';
import { StatusRollup } from '../../src/status/rollup.js';
import { settle } from '../helpers/api.js';
import { waitFor } from '../helpers/wait.js';

const YAML = `
defaults: { interval: 1s, rise: 1, fall: 1 }
services:
  api:
    instances:
      - { id: a1, address: "10.0.0.1:80", zone: z1 }
      - { id: a2, address: "10.0.0.2:80" }
      - { id: a3, address: "10.0.0.3:80" }
    checks: [{ kind: tcp }]
  jobs:
    instances: [{ id: j1, address: "10.0.1.1:9000" }]
    checks: [{ kind: ttl, ttl: 10s }]
`;
const TOKEN = 'a-very-secret-token-123';

type Outcomes = Record<string, ProbeOutcome>;
const OK: ProbeOutcome = { status: 'HEALTHY', reason: 'ok', output: 'ok' };

async function setup(outcomes: Outcomes = {}, token?: string) {
  const clock = new FakeClock(1_000_000);
  const { createRunner } = await import('../../src/checks/index.js');
  const runnerFor = (spec: CheckSpec, deps: CheckDeps): CheckRunner =>
    spec.kind === 'ttl' ? createRunner(spec, deps) : { run: async () => outcomes[spec.instance] ?? OK };
  const engine = new Engine({ clock, random: seeded(1), concurrency: 10, spreadFirstRun: false, runnerFor });
  const config = parseConfig(YAML, { env: {} });
  const registry = new Registry(engine, config, undefined, clock);
  const rollup = new StatusRollup((s) => registry.minHealthy(s));
  rollup.attach(engine.bus);
  const transitions = new TransitionLog(100);
  transitions.attach(engine.bus);
  registry.applyConfig(config);
  await flushMicrotasks();
  const app = buildServer({ engine, registry, rollup, transitions, version: '9.9.9', isReady: () => true, token, clock });
  apps.push(app);
  return { clock, engine, registry, rollup, app, outcomes };
}

const apps: Array<{ close(): Promise<unknown> }> = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

describe('GET /health', () => {
  it('answers application/health+json pass with 200 while the mesh is healthy', async () => {
    const { app, engine } = await setup();
    engine.heartbeat('jobs/j1/ttl', 'pass');
    await flushMicrotasks();
    const res = await app.inject('/health');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('application/health+json');
    expect(res.json()).toMatchObject({ status: 'pass', version: '9.9.9', checks: { 'api:status': [{ status: 'pass', componentType: 'service' }] } });
  });

  it('answers fail with 503 when a service is UNHEALTHY', async () => {
    const down: ProbeOutcome = { status: 'UNHEALTHY', reason: 'connect_refused', output: 'refused' };
    const { app } = await setup({ a1: down, a2: down, a3: down });
    const res = await app.inject('/health');
    expect(res.statusCode).toBe(503);
    expect(res.json().status).toBe('fail');
  });
});

describe('instances for load balancers', () => {
  it('status=healthy leaves DEGRADED out, status=passing keeps it', async () => {
    const { app } = await setup({ a2: { status: 'DEGRADED', reason: 'slow', output: 'slow' }, a3: { status: 'UNHEALTHY', reason: 'timeout', output: 't' } });
    const ids = async (q: string) => (await app.inject(`/api/v1/services/api/instances${q}`)).json().items.map((i: { id: string }) => i.id);
    expect(await ids('?status=healthy')).toEqual(['a1']);
    expect(await ids('?status=passing')).toEqual(['a1', 'a2']);
    expect(await ids('')).toEqual(['a1', 'a2', 'a3']);
    const one = (await app.inject('/api/v1/services/api/instances?status=healthy')).json().items[0];
    expect(one).toMatchObject({ id: 'a1', address: '10.0.0.1:80', zone: 'z1', status: 'HEALTHY', score: 100 });
  });

  it('paginates with a cursor, without gaps or repeats', async () => {
    const { app } = await setup();
    const first = (await app.inject('/api/v1/services/api/instances?limit=2')).json();
    expect(first.items.map((i: { id: string }) => i.id)).toEqual(['a1', 'a2']);
    const second = (await app.inject(`/api/v1/services/api/instances?limit=2&cursor=${first.nextCursor}`)).json();
    expect(second.items.map((i: { id: string }) => i.id)).toEqual(['a3']);
    expect(second.nextCursor).toBeNull();
  });

  it('a blocking query returns when membership changes, not before', async () => {
    const { app, registry, clock } = await setup();
    const index = Number((await app.inject('/api/v1/services/api/instances')).headers['x-healthmesh-index']);
    let answered = false;
    const timers = clock.pendingTimers();
    const pending = app.inject(`/api/v1/services/api/instances?index=${index}&wait=20s`).then((r) => {
      answered = true;
      return r;
    });
    // Parked: its 20 s bound is armed on the clock. Then most of that bound passes with no change.
    await waitFor(() => clock.pendingTimers() > timers, { timeoutMs: 2000, what: 'the blocking query to park' });
    await clock.advanceAsync(19_000, 1000);
    await settle();
    expect(answered).toBe(false);
    await registry.register({ service: 'api', id: 'a4', address: '10.0.0.4:80' });
    const res = await pending;
    expect(Number(res.headers['x-healthmesh-index'])).toBeGreaterThan(index);
    expect(res.json().items.map((i: { id: string }) => i.id)).toContain('a4');
  });

  it('rejects a bad query naming the parameter', async () => {
    const { app } = await setup();
    const res = await app.inject('/api/v1/services/api/instances?status=sometimes');
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/^status: /);
  });
});

describe('registration API', () => {
  it('registers, reads back, and deregisters an instance; needs the bearer token', async () => {
    const { app, engine } = await setup({}, TOKEN);
    const body = { service: 'api', id: 'a9', address: '10.0.0.9:80', checks: [{ kind: 'http', path: '/h' }] };
    expect((await app.inject({ method: 'POST', url: '/api/v1/instances', payload: body })).statusCode).toBe(401);
    const wrong = await app.inject({ method: 'POST', url: '/api/v1/instances', payload: body, headers: { authorization: 'Bearer nope' } });
    expect(wrong.statusCode).toBe(401);
    const auth = { authorization: `Bearer ${TOKEN}` };
    const created = await app.inject({ method: 'POST', url: '/api/v1/instances', payload: body, headers: auth });
    expect(created.statusCode).toBe(201);
    expect(created.json().checks.map((c: { id: string }) => c.id)).toEqual(['api/a9/tcp', 'api/a9/http']);
    expect(engine.get('api/a9/http')).toBeDefined();
    expect((await app.inject('/api/v1/instances/a9')).json()).toMatchObject({ key: 'api/a9', source: 'api' });
    expect((await app.inject('/api/v1/instances/api/a9')).statusCode).toBe(200);
    expect((await app.inject({ method: 'DELETE', url: '/api/v1/instances/api/a9', headers: auth })).statusCode).toBe(204);
    expect((await app.inject('/api/v1/instances/a9')).statusCode).toBe(404);
  });

  it('answers 400 naming the field for a bad body, 409 for a config instance', async () => {
    const { app } = await setup();
    const bad = await app.inject({
      method: 'POST',
      url: '/api/v1/instances',
      payload: { service: 'api', id: 'x', address: 'h:1', weight: -1, checks: [{ kind: 'tcp', interval: 'soon' }] },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toContain('weight:');
    expect(bad.json().message).toContain('checks[0].interval: "soon" is not a duration');
    const conflict = await app.inject({ method: 'DELETE', url: '/api/v1/instances/api/a1' });
    expect(conflict.statusCode).toBe(409);
    const notJson = await app.inject({ method: 'POST', url: '/api/v1/instances', payload: '{oops', headers: { 'content-type': 'application/json' } });
    expect(notJson.statusCode).toBe(400);
  });

  it('answers 400 naming address for an address that is not host:port, and registers nothing', async () => {
    const { app, registry } = await setup();
    for (const [address, why] of [
      ['nohostport', '"nohostport" has no port'],
      ['10.0.0.9:0', 'the port 0 is out of range (1–65535)'],
      ['::1:80', 'an IPv6 address goes in brackets'],
    ] as const) {
      const res = await app.inject({ method: 'POST', url: '/api/v1/instances', payload: { service: 'api', id: 'bad', address } });
      expect(res.statusCode, address).toBe(400);
      expect(res.json().message, address).toMatch(/^address: /);
      expect(res.json().message, address).toContain(why);
    }
    expect(registry.instance('api/bad')).toBeUndefined();
    const v6 = await app.inject({ method: 'POST', url: '/api/v1/instances', payload: { service: 'api', id: 'v6', address: '[fd00::9]:80' } });
    expect(v6.statusCode).toBe(201);
  });
});

describe('checks API', () => {
  it('reads a check by its id, slashes encoded or not', async () => {
    const { app } = await setup();
    const plain = await app.inject('/api/v1/checks/api/a1/tcp');
    expect(plain.statusCode).toBe(200);
    expect(plain.json()).toMatchObject({ id: 'api/a1/tcp', status: 'HEALTHY', lastResult: { reason: 'ok' } });
    expect((await app.inject('/api/v1/checks/api%2Fa1%2Ftcp')).json().id).toBe('api/a1/tcp');
    expect((await app.inject('/api/v1/checks/api/zz/tcp')).statusCode).toBe(404);
  });

  it('takes ttl heartbeats: pass/warn/fail, 409 for a non-ttl check, 400 for a bad status', async () => {
    const { app, engine } = await setup();
    const put = (id: string, payload: Record<string, unknown>) => app.inject({ method: 'PUT', url: `/api/v1/checks/${id}/ttl`, payload });
    expect((await put('jobs/j1/ttl', { status: 'warn', note: 'queue deep' })).statusCode).toBe(200);
    await flushMicrotasks();
    expect(engine.get('jobs/j1/ttl')!.state.lastResult).toMatchObject({ status: 'DEGRADED', output: 'queue deep' });
    expect((await put('api/a1/tcp', { status: 'pass' })).statusCode).toBe(409);
    const bad = await put('jobs/j1/ttl', { status: 'great' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/^status:/);
    expect((await put('nope/x/y', { status: 'pass' })).statusCode).toBe(404);
  });

  it('lists services with status, score and counts', async () => {
    const { app } = await setup();
    const res = (await app.inject('/api/v1/services')).json();
    expect(res.items.map((s: { name: string }) => s.name)).toEqual(['api', 'jobs']);
    expect(res.items[0]).toMatchObject({ status: 'HEALTHY', score: 100, instances: { HEALTHY: 3 } });
  });

  it('publishes an OpenAPI document built from the body schemas', async () => {
    const { app } = await setup();
    const doc = (await app.inject('/api/v1/openapi.json')).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.paths['/api/v1/services/{service}/instances'].get).toBeDefined();
    expect(doc.components.schemas.Registration.properties.address).toBeDefined();
    expect(doc.components.schemas.TtlUpdate.properties.status.enum).toEqual(['pass', 'warn', 'fail']);
  });
});

describe('GET /api/v1/events', () => {
  it('streams transitions as SSE and replays what was missed after Last-Event-ID', async () => {
    const { app, outcomes, engine, clock } = await setup();
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as { port: number }).port;
    let opened = 0;
    const read = (headers: Record<string, string>, until: (text: string) => boolean) =>
      new Promise<string>((resolve, reject) => {
        let text = '';
        const req = httpRequest({ host: '127.0.0.1', port, path: '/api/v1/events', headers }, (res) => {
          opened++; // the stream is subscribed before the server sends its head
          res.on('data', (d: Buffer) => {
            text += d;
            if (until(text)) {
              req.destroy();
              resolve(text);
            }
          });
        });
        req.on('error', (e) => (text && until(text) ? resolve(text) : reject(e)));
        req.end();
        setTimeout(() => reject(new Error(`no events: ${text}`)), 5000);
      });
    const live = read({}, (t) => t.includes('"to":"UNHEALTHY"'));
    await waitFor(() => opened === 1, { timeoutMs: 5000, what: 'the live stream to open' });
    outcomes.a2 = { status: 'UNHEALTHY', reason: 'timeout', output: 'no answer' };
    await clock.advanceAsync(1000, 100);
    const text = await live;
    expect(text).toMatch(/id: \d+\nevent: transition\ndata: \{.*"check":"api\/a2\/tcp".*"from":"HEALTHY","to":"UNHEALTHY"/);
    // A client that saw nothing after id 0 gets the full history replayed.
    const replay = await read({ 'last-event-id': '0' }, (t) => t.includes('api/a2/tcp'));
    expect(replay).toContain('"check":"api/a1/tcp"');
    void engine;
  });
});
