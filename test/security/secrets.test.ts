import { statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardOf } from '../../src/security/guard.js';
import { secureDaemon, type SecureDaemon } from './harness.js';

/**
 * A known secret is written into every place one can go — a ${VAR} in a
 * check's Authorization header, in a notifier URL, in metadata marked
 * secret, and a registration's own secret header and metadata — and made to
 * travel: the target echoes the header into its body, the check quotes the
 * body, the alert fires, the notifier fails on its URL, a bad registration
 * quotes its input. Then every output is searched for it: every log line,
 * the answer of every GET route, both event streams, error answers.
 */

const SECRET = 'Canary-S3cr3t-7f3a9b/+&?';
const REG_SECRET = 'Reg-Canary-41d8e2c0x';
const TOKEN = 'admin-token-for-leak-test';

let echo: Server;
let s: SecureDaemon;
const streamed: string[] = [];
const aborts: AbortController[] = [];

async function until(probe: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  // Answers with the headers it was sent, as JSON: a check that quotes the body quotes the secret.
  echo = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ auth: req.headers.authorization ?? null, key: req.headers['x-api-key'] ?? null }));
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  const port = (echo.address() as AddressInfo).port;
  s = await secureDaemon(
    `
server: { listen: "127.0.0.1:0", token: "${TOKEN}" }
storage: { path: "$DIR/data/h.db", flush_interval: 100ms }
defaults: { interval: 200ms, timeout: 1s, rise: 1, fall: 1 }
services:
  api:
    instances: [{ id: a1, address: "127.0.0.1:${port}", metadata: { "secret.db": "\${HM_SECRET}", team: core } }]
    checks:
      - kind: http
        path: /echo
        headers: { authorization: "Bearer \${HM_SECRET}" }
        expect_body: { json: [{ path: $.auth, equals: nope }] }
alerts:
  defaults: { group_wait: 0s, group_interval: 1s }
  notifiers: { hook: { kind: webhook, url: "http://127.0.0.1:9/hook/\${HM_SECRET}" } }
  rules: [{ name: down, scope: instance, when: { kind: status, is: UNHEALTHY }, level: critical, notify: [hook] }]
`,
    { HM_SECRET: SECRET },
  );
  const base = `http://127.0.0.1:${s.daemon.address.port}`;
  for (const path of ['/api/v1/events', '/api/v1/web/events']) {
    const abort = new AbortController();
    aborts.push(abort);
    const i = streamed.push('') - 1;
    void fetch(`${base}${path}`, { signal: abort.signal, headers: { authorization: `Bearer ${TOKEN}` } })
      .then(async (res) => {
        for await (const chunk of res.body!) streamed[i] += Buffer.from(chunk).toString();
      })
      .catch(() => {});
  }
  const reg = await s.daemon.server.inject({
    method: 'POST',
    url: '/api/v1/instances',
    headers: { authorization: `Bearer ${TOKEN}` },
    payload: {
      service: 'api',
      id: 'r1',
      address: `127.0.0.1:${port}`,
      metadata: { 'secret.token': REG_SECRET },
      checks: [{ kind: 'http', name: 'keyed', path: '/k', headers: { 'x-api-key': REG_SECRET }, expect_body: { json: [{ path: '$.key', equals: 'nope' }] } }],
    },
  });
  expect(reg.statusCode, reg.body).toBe(201);
  // Wait for the secret to travel: check output, transitions on both streams, a failed delivery.
  await until(() => streamed.every((t) => t.includes('body_mismatch') || t.includes('UNHEALTHY')), 15_000, 'transitions on both streams');
  await until(
    async () =>
      JSON.stringify((await s.daemon.server.inject({ url: '/api/v1/notifiers', headers: { authorization: `Bearer ${TOKEN}` } })).json()).includes('rror'),
    15_000,
    'a failed delivery',
  );
}, 40_000);

afterAll(async () => {
  for (const a of aborts) a.abort();
  await s?.stop();
  await new Promise((r) => echo?.close(r));
});

/** Every form a secret can take in an output. */
function leaks(text: string): string[] {
  return [SECRET, REG_SECRET, JSON.stringify(SECRET).slice(1, -1), encodeURIComponent(SECRET)].filter((form) => text.includes(form));
}

describe('secrets never leak', () => {
  it('appear in no answer of any GET route', async () => {
    const answers: string[] = [];
    const samples: Record<string, string> = {
      '/api/v1/instances/*': '/api/v1/instances/api/a1',
      '/api/v1/checks/*': '/api/v1/checks/api%2Fa1%2Fhttp',
      '/assets/*': '/assets/x.js',
    };
    for (const route of guardOf(s.daemon.server)!.routes) {
      if (route.method !== 'GET' || route.url.endsWith('/events')) continue;
      const url =
        samples[route.url] ??
        route.url
          .replace(/:service\b/g, 'api')
          .replace(/:instance\b/g, 'a1')
          .replace(/:name\b/g, 'http')
          .replace(/:id\b/g, 'a1')
          .replace(/:slug\b/g, 'x');
      for (const u of [url, url.replace('a1', 'r1'), url.replace(/http$/, 'keyed')]) {
        const res = await s.daemon.server.inject({ url: u, headers: { authorization: `Bearer ${TOKEN}` } });
        answers.push(`${u} ${res.statusCode} ${res.body}`);
      }
    }
    // The history of the checks, where their outputs are stored.
    answers.push((await s.daemon.server.inject({ url: '/api/v1/checks/api%2Fr1%2Fkeyed/history', headers: { authorization: `Bearer ${TOKEN}` } })).body);
    // Reports carry stored outputs and reasons: every text format of the detailed report.
    const reports: string[] = [];
    for (const format of ['json', 'html', 'csv', 'markdown']) {
      const res = await s.daemon.server.inject({
        url: `/api/v1/reports?type=detailed&format=${format}&from=1h`,
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(res.statusCode, `${format}: ${res.body.slice(0, 200)}`).toBe(200);
      reports.push(res.body);
    }
    expect(leaks(reports.join('\n'))).toEqual([]);
    // The detailed report quotes the check's output: the secret was there, and was taken out.
    expect(reports[0]).toContain('[redacted]');
    const all = answers.join('\n');
    expect(leaks(all)).toEqual([]);
    // It was there to leak: the outputs and the metadata show where it was taken out.
    expect(all).toContain('"secret.db":"[redacted]"');
    expect(all).toContain('"secret.token":"[redacted]"');
    // The check quoted what the target echoed: the header's value.
    expect(all).toContain('"output":"$.auth is \\"[redacted]\\", expected \\"nope\\""');
  });

  it('appears in no event of either stream', () => {
    expect(streamed.every((t) => t.length > 0)).toBe(true);
    for (const t of streamed) expect(leaks(t)).toEqual([]);
    expect(streamed.join('')).toContain('[redacted]');
  });

  it('appears in no error answer, even when the bad input is the secret itself', async () => {
    const errors: string[] = [];
    for (const payload of [
      { service: 'api', id: 'bad', address: SECRET },
      { service: 'api', id: 'bad', address: `${REG_SECRET}:80` },
      {
        service: 'api',
        id: 'bad',
        address: '127.0.0.1:80',
        checks: [{ kind: 'http', url: `http://x/${SECRET}`, headers: { authorization: REG_SECRET }, expect_status: [SECRET] }],
      },
    ]) {
      const res = await s.daemon.server.inject({ method: 'POST', url: '/api/v1/instances', headers: { authorization: `Bearer ${TOKEN}` }, payload });
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      errors.push(res.body);
    }
    const wrongToken = await s.daemon.server.inject({ url: '/api/v1/services', method: 'POST', headers: { authorization: `Bearer ${SECRET}` } });
    errors.push(wrongToken.body);
    expect(leaks(errors.join('\n'))).toEqual([]);
  });

  it('appears in no log line', async () => {
    await until(() => s.logs.some((l) => l.includes('hook')), 5000, 'a notifier log line');
    expect(s.logs.length).toBeGreaterThan(3);
    expect(leaks(s.logs.join('\n'))).toEqual([]);
  });

  it('creates the SQLite file and its -wal and -shm files readable by the owner only', () => {
    const db = join(s.dir, 'data', 'h.db');
    for (const file of [db, `${db}-wal`, `${db}-shm`]) expect((statSync(file).mode & 0o777).toString(8), file).toBe('600');
  });
});
