import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCli, waitFor as waitUntilTrue } from '../helpers/spawn.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = 'e2e-token-0123456789';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function writeConfig(dir: string, port: number): string {
  const file = join(dir, 'hm.yaml');
  writeFileSync(
    file,
    `server: { listen: "127.0.0.1:${port}", token: ${TOKEN} }
log: { format: json }
storage: { path: "${join(dir, 'hm.db')}", flush_interval: 200ms }
defaults: { interval: 200ms, timeout: 300ms, rise: 1, fall: 2 }
services:
  api: {}
`,
  );
  return file;
}

const children: Array<{ kill(signal?: NodeJS.Signals): unknown }> = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

describe('the daemon as a spawned process', () => {
  it('registers an instance over HTTP, sees it go HEALTHY then UNHEALTHY, in SSE, history and /metrics', async () => {
    const target: Server = createServer((s) => s.destroy());
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    const targetPort = (target.address() as { port: number }).port;
    const dir = mkdtempSync(join(tmpdir(), 'hm-e2e-'));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const { child, output } = startCli(['start', '--config', writeConfig(dir, port)]);
    children.push(child);
    await waitUntilTrue(() => output().includes('watching'), 15_000, 'daemon start');

    // Follow transitions over SSE from the start.
    let sse = '';
    const events = httpRequest({ host: '127.0.0.1', port, path: '/api/v1/events' }, (res) => res.on('data', (d: Buffer) => (sse += d)));
    events.on('error', () => {});
    events.end();

    const reg = await fetch(`${base}/api/v1/instances`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ service: 'api', id: 'a1', address: `127.0.0.1:${targetPort}`, checks: [{ kind: 'tcp', name: 'port' }] }),
    });
    expect(reg.status).toBe(201);

    const healthy = async () => ((await (await fetch(`${base}/api/v1/services/api/instances?status=healthy`)).json()) as { items: unknown[] }).items.length;
    await waitUntilTrue(() => sse.includes('"to":"HEALTHY"'), 10_000, 'HEALTHY over SSE');
    expect(await healthy()).toBe(1);

    await new Promise<void>((r) => target.close(() => r()));
    await waitUntilTrue(() => sse.includes('"to":"UNHEALTHY"'), 10_000, 'UNHEALTHY over SSE');
    expect(sse).toMatch(/"check":"api\/a1\/port","service":"api","instance":"a1","from":"HEALTHY","to":"UNHEALTHY","reason":"connect_refused"/);
    expect(await healthy()).toBe(0);

    // History: both kinds of result were stored (flush every 200 ms).
    const history = await waitFor(
      async () => {
        const items = ((await (await fetch(`${base}/api/v1/checks/api/a1/port/history?limit=1000`)).json()) as { items: Array<{ status: string }> }).items;
        return items.some((r) => r.status === 'UNHEALTHY') && items;
      },
      { timeoutMs: 5000, what: 'an UNHEALTHY result in history' },
    );
    expect(history.some((r) => r.status === 'HEALTHY')).toBe(true);
    expect(history.some((r) => r.status === 'UNHEALTHY')).toBe(true);

    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/healthmesh_check_status\{status="UNHEALTHY",service="api",service_instance="a1",check="api\/a1\/port",kind="tcp"\} 1/);
    const failures = metrics
      .split('\n')
      .find((l) => l.startsWith('healthmesh_check_failures_total{') && l.includes('reason="connect_refused"') && l.includes('service="api"'));
    expect(Number(failures?.split(' ').pop())).toBeGreaterThanOrEqual(1);
    events.destroy();
  }, 60_000);

  it('loses no acknowledged registration and at most one flush interval of results when killed -9', async () => {
    const target: Server = createServer((s) => s.destroy());
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    const targetPort = (target.address() as { port: number }).port;
    const dir = mkdtempSync(join(tmpdir(), 'hm-kill-'));
    const port = await freePort();
    const config = writeConfig(dir, port);
    const base = `http://127.0.0.1:${port}`;
    const first = startCli(['start', '--config', config]);
    children.push(first.child);
    await waitUntilTrue(() => first.output().includes('watching'), 15_000, 'daemon start');

    const acknowledged: string[] = [];
    const register = async (i: number) => {
      const res = await fetch(`${base}/api/v1/instances`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ service: 'api', id: `r${i}`, address: `127.0.0.1:${targetPort}`, checks: [{ kind: 'tcp' }] }),
      });
      if (res.status === 201) acknowledged.push(`r${i}`);
    };
    // Register while checks run and results are written, then kill mid-stream.
    for (let i = 0; i < 30; i++) await register(i);
    // Mid-stream: results of the registered checks are being flushed (two flushes seen) when the kill comes.
    const stored = async () => ((await (await fetch(`${base}/api/v1/checks/api/r0/tcp/history?limit=1000`)).json()) as { items: unknown[] }).items.length;
    const firstFlush = await waitFor(stored, { timeoutMs: 10_000, what: 'results of r0 in history' });
    await waitFor(async () => (await stored()) > firstFlush, { timeoutMs: 10_000, what: 'a second flush of r0 results' });
    const inflight = Promise.allSettled(Array.from({ length: 10 }, (_, i) => register(100 + i)));
    const firstExited = new Promise((r) => first.child.once('exit', r));
    const killedAt = Date.now();
    first.child.kill('SIGKILL');
    await inflight;
    await firstExited;
    expect(acknowledged.length).toBeGreaterThanOrEqual(30);

    const second = startCli(['start', '--config', config]);
    children.push(second.child);
    await waitUntilTrue(() => second.output().includes('watching'), 15_000, 'daemon restart');
    const listed = ((await (await fetch(`${base}/api/v1/services/api/instances?limit=1000`)).json()) as { items: Array<{ id: string }> }).items.map(
      (i: { id: string }) => i.id,
    );
    for (const id of acknowledged) expect(listed).toContain(id);

    // Results observed up to one flush interval (200 ms) before the kill are in history.
    const history = ((await (await fetch(`${base}/api/v1/checks/api/r0/tcp/history?limit=1000`)).json()) as { items: Array<{ observedAt: number }> }).items;
    // Only the first daemon's rows: the second one has been adding its own since the restart.
    const newest = Math.max(...history.map((r) => r.observedAt).filter((t) => t <= killedAt));
    expect(killedAt - newest).toBeLessThan(200 + 300); // flush interval + one check interval of slack
    const secondExited = new Promise((r) => second.child.once('exit', r));
    second.child.kill('SIGTERM');
    await secondExited;
    target.close();
  }, 90_000);
});
