import { request, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { CSP } from '../../src/server/web.js';
import { runDaemon, tempDir, until } from './helpers/daemon.js';

const TOKEN = 'web-server-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

const YAML = (db: string) => `
server: { token: ${TOKEN}, protect_reads: true }
storage: { path: "${db}" }
defaults: { rise: 1, fall: 1 }
services:
  db:
    instances: [{ id: d1, address: "127.0.0.1:9" }]
    checks: [{ kind: ttl, ttl: 1h, interval: 30m }]
  api:
    depends_on: [db]
    instances: [{ id: a1, address: "127.0.0.1:9", zone: z1, tags: [core] }, { id: a2, address: "127.0.0.1:9", zone: z2 }]
    checks: [{ kind: ttl, ttl: 1h, interval: 30m }]
`;

/** GET with the raw answer (no decoding): status, headers, body bytes. */
function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

interface SseEvent {
  event: string;
  id: string | null;
  data: string;
}

/** An SSE client that collects events until closed. */
function sse(url: string, headers: Record<string, string>): { events: SseEvent[]; ended: Promise<'end' | 'aborted'>; close(): void } {
  const events: SseEvent[] = [];
  let buffer = '';
  let res: IncomingMessage | undefined;
  const ended = new Promise<'end' | 'aborted'>((resolve) => {
    const req = request(url, { headers }, (r) => {
      res = r;
      r.setEncoding('utf8');
      r.on('data', (d: string) => {
        buffer += d;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const ev: SseEvent = { event: 'message', id: null, data: '' };
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) ev.event = line.slice(7);
            else if (line.startsWith('id: ')) ev.id = line.slice(4);
            else if (line.startsWith('data: ')) ev.data += line.slice(6);
          }
          if (ev.data) events.push(ev);
        }
      });
      // A chunked answer cut before its last chunk never emits 'end'.
      r.on('end', () => resolve('end'));
      r.on('aborted', () => resolve('aborted'));
      r.on('error', () => resolve('aborted'));
    });
    req.on('error', () => resolve('aborted'));
    req.end();
  });
  return { events, ended, close: () => res?.destroy() };
}

describe('the daemon’s web routes', () => {
  let daemon: Daemon;
  let base: string;

  beforeAll(async () => {
    ({ daemon, base } = await runDaemon(YAML(join(tempDir(), 'hm.db'))));
    for (const id of ['db/d1/ttl', 'api/a1/ttl', 'api/a2/ttl']) daemon.engine.heartbeat(id, 'pass');
    await until(() => daemon.rollup.service('api') === 'HEALTHY' && daemon.rollup.service('db') === 'HEALTHY', 5000, 'a healthy mesh');
  }, 30_000);

  afterAll(async () => {
    await daemon?.stop();
  });

  it('serves the page with its security policy, revalidated, and its hashed assets immutable and precompressed', async () => {
    const page = await get(`${base}/`, { 'accept-encoding': 'br, gzip' });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-encoding']).toBe('br');
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.headers['content-security-policy']).toBe(CSP);
    expect(CSP).toContain("script-src 'self'");
    expect(CSP).not.toContain('unsafe-inline');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers.etag).toBeTruthy();
    const html = (await get(`${base}/`)).body.toString();
    // Nothing from elsewhere: every script, style and icon is a local, hashed asset.
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.filter((r) => r.startsWith('/assets/'))).not.toHaveLength(0);
    expect(refs.every((r) => r.startsWith('/assets/') || r === '/api/v1/web/summary')).toBe(true);
    expect(html).not.toMatch(/<script>|<style>|https?:\/\//);

    const script = refs.find((r) => r.endsWith('.js'))!;
    const gz = await get(`${base}${script}`, { 'accept-encoding': 'gzip' });
    expect(gz.status).toBe(200);
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(gz.headers['content-type']).toMatch(/^(application|text)\/javascript/);
    const plain = await get(`${base}${script}`);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.length).toBeGreaterThan(gz.body.length);
    expect((await get(`${base}/assets/nope.js`)).status).toBe(404);
    expect((await get(`${base}/status/anything`)).body.toString()).toMatch(/src="\/assets\/status-[^"]+\.js"/);
  });

  it('keeps the API guard for data and opens only the shell: protect_reads holds for the dashboard routes', async () => {
    expect((await get(`${base}/api/v1/web/summary`)).status).toBe(401);
    expect((await get(`${base}/api/v1/web/events`)).status).toBe(401);
    expect((await get(`${base}/api/v1/web/services/api`)).status).toBe(401);
    expect((await get(`${base}/api/v1/services`)).status).toBe(401);
    expect((await get(`${base}/livez`)).status).toBe(200);
    expect((await get(`${base}/`)).status).toBe(200);
    expect((await get(`${base}/api/v1/web/summary`, auth)).status).toBe(200);
  });

  it('answers the whole mesh in one request', async () => {
    const plain = await get(`${base}/api/v1/web/summary`, auth);
    const body = JSON.parse(plain.body.toString()) as { lastEventId: string; mesh: string; uptimeSource: string; services: Array<Record<string, unknown>> };
    expect(body.mesh).toBe('HEALTHY');
    expect(body.uptimeSource).toBe('uptime'); // the store's exact uptime
    // The transition log's id: the heartbeats above were transitions.
    expect(Number(body.lastEventId)).toBe(daemon.transitions.lastId);
    expect(daemon.transitions.lastId).toBeGreaterThan(0);
    const api = body.services.find((s) => s.name === 'api')!;
    expect(api).toMatchObject({
      status: 'HEALTHY',
      score: expect.any(Number),
      counts: { HEALTHY: 2, DEGRADED: 0, UNHEALTHY: 0, UNKNOWN: 0 },
      tags: ['core'],
      zones: ['z1', 'z2'],
      dependsOn: ['db'],
      critical: true,
    });
    // Run-length encoded: [value, count, …] covering 60 minutes, the current one known.
    const runs = api.spark as Array<number | null>;
    expect(runs.filter((_, i) => i % 2 === 1).reduce((n, c) => n! + c!, 0)).toBe(60);
    expect(runs.at(-2)).toEqual(expect.any(Number));

    const detail = JSON.parse((await get(`${base}/api/v1/web/services/api?limit=1`, auth)).body.toString()) as {
      total: number;
      instances: unknown[];
      dependents: string[];
    };
    expect(detail.total).toBe(2);
    expect(detail.instances).toHaveLength(1);
    expect(JSON.parse((await get(`${base}/api/v1/web/services/db`, auth)).body.toString()).dependents).toEqual(['api']);
    expect((await get(`${base}/api/v1/web/services/nope`, auth)).status).toBe(404);
    const days = JSON.parse((await get(`${base}/api/v1/web/services/api/uptime?days=7`, auth)).body.toString()) as { source: string; days: unknown[] };
    expect(days.source).toBe('uptime');
    expect(days.days).toHaveLength(7);
  });

  it('streams each transition with the state it left its service and dependents in, resumes after Last-Event-ID, and resets when it cannot', async () => {
    const stream = sse(`${base}/api/v1/web/events`, auth);
    await until(() => stream.events.some((e) => e.event === 'hello'), 5000, 'hello');
    daemon.engine.heartbeat('db/d1/ttl', 'fail');
    await until(() => stream.events.some((e) => e.event === 'transition'), 5000, 'a transition');
    const t = stream.events.find((e) => e.event === 'transition')!;
    const data = JSON.parse(t.data) as {
      id: number;
      check: string;
      to: string;
      svcs: Array<{ name: string; status: string; cause: string | null }>;
      inst: { status: string };
      mesh: string;
    };
    expect(data.check).toBe('db/d1/ttl');
    expect(data.to).toBe('UNHEALTHY');
    expect(t.id).toBe(String(data.id));
    expect(data.inst.status).toBe('UNHEALTHY');
    // db went down, and api (which depends on it) is capped at DEGRADED: both in one event.
    expect(data.svcs).toEqual([
      expect.objectContaining({ name: 'db', status: 'UNHEALTHY' }),
      expect.objectContaining({ name: 'api', status: 'DEGRADED', cause: 'dependency db is UNHEALTHY' }),
    ]);
    expect(data.mesh).toBe('UNHEALTHY');
    stream.close();

    // Resume after the event before it: that one is replayed, with the state now.
    daemon.engine.heartbeat('db/d1/ttl', 'pass');
    await until(() => daemon.rollup.service('db') === 'HEALTHY', 5000, 'db back');
    const resumed = sse(`${base}/api/v1/web/events`, { ...auth, 'last-event-id': t.id! });
    await until(() => resumed.events.length >= 1, 5000, 'the replay');
    expect(resumed.events[0]!.event).toBe('transition');
    expect(JSON.parse(resumed.events[0]!.data)).toMatchObject({ check: 'db/d1/ttl', from: 'UNHEALTHY', to: 'HEALTHY' });
    resumed.close();

    // Ids memory cannot answer from (from before this run, ahead of it, or not an id): re-read everything.
    for (const id of ['17', String(daemon.transitions.lastId + 1000), 'abc.1']) {
      const reset = sse(`${base}/api/v1/web/events?last_event_id=${id}`, auth);
      await until(() => reset.events.length >= 1, 5000, 'the reset');
      expect(reset.events[0]!.event).toBe('reset');
      expect(JSON.parse(reset.events[0]!.data).lastEventId).toBe(String(daemon.transitions.lastId));
      reset.close();
    }
  });

  it('lists its routes in the OpenAPI document', async () => {
    const doc = JSON.parse((await get(`${base}/api/v1/openapi.json`, auth)).body.toString()) as { paths: Record<string, unknown> };
    for (const path of [
      '/api/v1/web/summary',
      '/api/v1/web/services/{service}',
      '/api/v1/web/services/{service}/uptime',
      '/api/v1/web/events',
      '/api/v1/status/{slug}',
      '/badge/{service}/status.svg',
      '/badge/{service}/uptime.svg',
      '/badge/{service}/latency.svg',
    ]) {
      expect(doc.paths).toHaveProperty([path]);
    }
  });

  it('ends its streams cleanly when the daemon stops', async () => {
    const own = await runDaemon(YAML(join(tempDir(), 'hm.db')));
    const stream = sse(`${own.base}/api/v1/web/events`, auth);
    await until(() => stream.events.some((e) => e.event === 'hello'), 5000, 'hello');
    const stopping = own.daemon.stop();
    expect(await stream.ended).toBe('end');
    await stopping;
  });
});
