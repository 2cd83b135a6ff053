import { createHmac, timingSafeEqual } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryAlertStore } from '../../src/alerts/memory-store.js';
import { createNotifier } from '../../src/alerts/notifiers/index.js';
import { MAX_ANSWER_BYTES } from '../../src/alerts/notifiers/http-post.js';
import { slackMessage } from '../../src/alerts/notifiers/slack.js';
import { Outbox } from '../../src/alerts/outbox.js';
import type { Notification } from '../../src/alerts/types.js';
import { webhookNotifierSchema, slackNotifierSchema } from '../../src/config/alerts.js';
import { realClock } from '../../src/core/clock.js';
import { waitFor } from '../helpers/wait.js';
import { realRandom } from '../../src/core/random.js';
import { useCleanups } from '../helpers/cleanups.js';
import { silentLogger } from './harness.js';
import { startReceiver, until, type Received } from './receivers.js';
import { notification } from './store-contract.js';

const { track } = useCleanups();
const SECRET = 'a-webhook-secret-0123456789';
const deps = { clock: realClock, logger: silentLogger, name: 'hook' };

function webhook(url: string, over: Record<string, unknown> = {}) {
  return createNotifier(webhookNotifierSchema.parse({ kind: 'webhook', url, secret: SECRET, headers: { 'X-Team': 'ops' }, ...over }), deps);
}

function send(n: ReturnType<typeof webhook>, body: Notification, key = 'k1', timeoutMs = 5000) {
  return n.send(body, { idempotencyKey: key, signal: AbortSignal.timeout(timeoutMs) });
}

/** What a receiver does to check a delivery: the HMAC of the raw body with the shared secret, in constant time. */
function verified(req: Received): boolean {
  const expected = Buffer.from(`sha256=${createHmac('sha256', SECRET).update(req.body).digest('hex')}`);
  const given = Buffer.from(String(req.headers['x-healthmesh-signature'] ?? ''));
  return given.length === expected.length && timingSafeEqual(given, expected);
}

describe('webhook notifier against a real HTTP receiver', () => {
  it('POSTs the notification as JSON with a verifiable HMAC-SHA256 signature, the idempotency key and custom headers', async () => {
    const r = track(await startReceiver());
    const n = webhook(`${r.url}/hooks/in`);
    const outcome = await send(n, notification('n1'), 'n1:hook');
    await n.close?.();
    expect(outcome).toEqual({ ok: true, detail: 'HTTP 200' });
    const req = r.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/hooks/in');
    expect(verified(req)).toBe(true);
    expect(req.headers['idempotency-key']).toBe('n1:hook');
    expect(req.headers['x-team']).toBe('ops');
    expect(req.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req.body)).toEqual(notification('n1'));
    // A tampered body fails the same check (the check is not vacuous).
    expect(verified({ ...req, body: req.body.replace('db is down', 'db is up') })).toBe(false);
  });

  it('a custom header cannot replace the signature or the key', async () => {
    const r = track(await startReceiver());
    const n = webhook(r.url, { headers: { 'X-Healthmesh-Signature': 'forged', 'Idempotency-Key': 'forged' } });
    await send(n, notification('n1'), 'real');
    await n.close?.();
    expect(verified(r.requests[0]!)).toBe(true);
    expect(r.requests[0]!.headers['idempotency-key']).toBe('real');
  });

  it.each([
    [503, true],
    [429, true],
    [400, false],
    [404, false],
  ])('an answer %i is a failure, retryable: %s', async (status, retryable) => {
    const r = track(await startReceiver((_q, res) => res.writeHead(status).end('no')));
    const n = webhook(r.url);
    expect(await send(n, notification('n1'))).toEqual({ ok: false, retryable, error: `HTTP ${status}: no` });
    await n.close?.();
  });

  it('a receiver that never answers costs one timeout, not a hang', async () => {
    const r = track(await startReceiver(() => {}));
    const n = webhook(r.url, { timeout: '300ms' });
    const t = Date.now();
    const outcome = await send(n, notification('n1'), 'k', 300);
    expect(Date.now() - t).toBeLessThan(5000); // 300 ms timeout; the rest is slack for a loaded machine
    expect(outcome).toMatchObject({ ok: false, retryable: true });
    await n.close?.();
  });

  it('closed while its first POST starts: nothing is sent, the try is retryable, no connection outlives close()', async () => {
    const r = track(await startReceiver());
    const n = webhook(r.url);
    const sending = send(n, notification('n1'));
    await n.close?.();
    expect(await sending).toEqual({ ok: false, retryable: true, error: 'notifier closed' });
    expect(r.requests).toHaveLength(0);
  });

  it('a receiver answering without end is read up to 64 KiB and cut off', async () => {
    let closed = false;
    const r = track(
      await startReceiver((_q, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        const chunk = Buffer.alloc(64 * 1024, 'x');
        let sent = 0;
        const pump = () => {
          while (!closed && sent < 512 * 1024 * 1024 && res.write(chunk)) sent += chunk.length;
          if (!closed && sent < 512 * 1024 * 1024) res.once('drain', pump);
        };
        res.on('close', () => (closed = true));
        pump();
      }),
    );
    const n = webhook(r.url);
    const rss = process.memoryUsage().rss;
    const t = Date.now();
    expect(await send(n, notification('n1'))).toEqual({ ok: true, detail: 'HTTP 200' });
    expect(Date.now() - t).toBeLessThan(10_000); // 512 MiB offered: cut long before
    await until(() => closed, 10_000, 'the receiver to see the connection closed');
    expect(process.memoryUsage().rss - rss).toBeLessThan(64 * 1024 * 1024);
    expect(MAX_ANSWER_BYTES).toBe(64 * 1024);
    await n.close?.();
  });

  it('error texts never carry the URL path, its token or the secret', async () => {
    const r = track(await startReceiver((q, res) => res.writeHead(500).end(`failed for ${q.path} with ${SECRET}`)));
    const n = webhook(`${r.url}/hooks/T0KEN-abcdef123`);
    const outcome = await send(n, notification('n1'));
    await n.close?.();
    expect(outcome.ok).toBe(false);
    const text = JSON.stringify(outcome);
    expect(text).toContain('HTTP 500');
    expect(text).not.toContain('T0KEN-abcdef123');
    expect(text).not.toContain(SECRET);
  });
});

describe('delivery through the outbox to a real receiver', () => {
  it('a receiver that is down, then up, gets every notification exactly once', async () => {
    const r = track(await startReceiver());
    const notifier = webhook(`${r.url}/in`);
    await r.stop(); // down: connections refused
    const store = new MemoryAlertStore();
    const outbox = new Outbox({
      store,
      clock: realClock,
      random: realRandom,
      logger: silentLogger,
      notifiers: new Map([['hook', { notifier, timeoutMs: 1000, maxAttempts: 50, rateLimit: null }]]),
      backoffMs: 20,
      maxBackoffMs: 100,
      owner: 'test',
    });
    await outbox.start();
    const ids = Array.from({ length: 20 }, (_, i) => `n${i}`);
    for (const id of ids) await outbox.enqueue(notification(id), ['hook']);
    // Tried and refused (rather than 300 ms slept and hoped): then nothing has arrived.
    await waitFor(async () => /ECONNREFUSED/.test((await store.notifierStats())[0]?.lastError ?? ''), { timeoutMs: 10_000, what: 'a refused try' });
    expect(r.requests).toHaveLength(0);
    expect((await store.notifierStats())[0]!.lastError).toMatch(/ECONNREFUSED/);
    await r.start(); // up again, same port
    await until(() => r.requests.length >= ids.length, 10_000, 'every notification');
    await new Promise((res) => setTimeout(res, 300)); // nothing more comes
    await outbox.stop();
    const keys = r.requests.map((q) => String(q.headers['idempotency-key']));
    expect(keys.sort()).toEqual(ids.map((id) => `${id}:hook`).sort());
    expect(r.requests.every(verified)).toBe(true);
    expect((await store.notifierStats())[0]).toMatchObject({ queued: 0, delivered: 20, dead: 0 });
  }, 30_000);
});

describe('slack notifier against a real HTTP receiver', () => {
  it('posts a text fallback and blocks: header, the alert list, a context line', async () => {
    const r = track(await startReceiver());
    const n = createNotifier(slackNotifierSchema.parse({ kind: 'slack', url: `${r.url}/services/T000/B000/XXXX` }), deps);
    expect(await send(n, notification('n1'))).toMatchObject({ ok: true });
    await n.close?.();
    const body = JSON.parse(r.requests[0]!.body);
    expect(body).toEqual(slackMessage(notification('n1')));
    expect(body.text).toBe('FIRING: db is down');
    expect(body.blocks.map((b: { type: string }) => b.type)).toEqual(['header', 'section', 'context']);
    expect(body.blocks[1].text.text).toContain('orders is down because db is down');
  });
});
