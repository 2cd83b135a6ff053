import { describe, expect, it } from 'vitest';
import { MemoryAlertStore } from '../../src/alerts/memory-store.js';
import { Outbox, type OutboxNotifier } from '../../src/alerts/outbox.js';
import type { DeliveryOutcome, Notification } from '../../src/alerts/types.js';
import { FakeClock } from '../../src/core/clock.js';
import { seeded } from '../../src/core/random.js';
import { settle, silentLogger, T0 } from './harness.js';
import { notification } from './store-contract.js';

interface Try {
  at: number;
  key: string;
}

/** An outbox with one notifier "hook" whose answers follow `answer(tryNumber)`. */
function setup(
  answer: (n: number) => DeliveryOutcome | 'hang',
  opts: { maxAttempts?: number; rate?: { perMinute: number; burst?: number }; store?: MemoryAlertStore; clock?: FakeClock } = {},
) {
  const clock = opts.clock ?? new FakeClock(T0);
  const store = opts.store ?? new MemoryAlertStore();
  const tries: Try[] = [];
  const outcomes: Array<{ key: string; ok: boolean; dead: boolean }> = [];
  const spec: OutboxNotifier = {
    timeoutMs: 5_000,
    maxAttempts: opts.maxAttempts ?? 5,
    rateLimit: opts.rate ?? null,
    notifier: {
      send(_n: Notification, ctx) {
        tries.push({ at: clock.now() - T0, key: ctx.idempotencyKey });
        const a = answer(tries.length);
        if (a === 'hang')
          return new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve({ ok: false, retryable: true, error: 'aborted' })));
        return Promise.resolve(a);
      },
    },
  };
  const outbox = new Outbox({
    store,
    clock,
    random: seeded(3),
    logger: silentLogger,
    notifiers: new Map([['hook', spec]]),
    backoffMs: 1_000,
    maxBackoffMs: 60_000,
    owner: 'test',
    onOutcome: (row, o, dead) => outcomes.push({ key: row.id, ok: o.ok, dead }),
  });
  const advance = async (ms: number, step = 100) => {
    await settle();
    for (let left = ms; left > 0; left -= step) {
      clock.advance(Math.min(step, left));
      await settle();
    }
  };
  return { clock, store, tries, outcomes, outbox, advance };
}

const fail: DeliveryOutcome = { ok: false, retryable: true, error: 'HTTP 503' };
const ok: DeliveryOutcome = { ok: true };

describe('outbox', () => {
  it('retries with exponential backoff (±20 % jitter) until delivered, then never again', async () => {
    const t = setup((n) => (n <= 3 ? fail : ok));
    await t.outbox.start();
    await t.outbox.enqueue(notification('n1'), ['hook']);
    await t.advance(60_000);
    expect(t.tries.map((x) => x.key)).toEqual(['n1:hook', 'n1:hook', 'n1:hook', 'n1:hook']);
    const gaps = t.tries.slice(1).map((x, i) => x.at - t.tries[i]!.at);
    [1000, 2000, 4000].forEach((base, i) => {
      expect(gaps[i]).toBeGreaterThanOrEqual(base * 0.8 - 100);
      expect(gaps[i]).toBeLessThanOrEqual(base * 1.2 + 100);
    });
    expect(new Set(gaps.map((g, i) => g / [1000, 2000, 4000][i]!)).size).toBeGreaterThan(1); // jitter: not exact doublings
    expect(t.outcomes.at(-1)).toEqual({ key: 'n1:hook', ok: true, dead: false });
    expect((await t.store.notifierStats())[0]).toMatchObject({ queued: 0, delivered: 1, lastError: 'HTTP 503' });
  });

  it('dead-letters after max_attempts tries', async () => {
    const t = setup(() => fail, { maxAttempts: 3 });
    await t.outbox.start();
    await t.outbox.enqueue(notification('n1'), ['hook']);
    await t.advance(120_000, 500);
    expect(t.tries).toHaveLength(3);
    expect(t.outcomes.at(-1)).toEqual({ key: 'n1:hook', ok: false, dead: true });
    expect((await t.store.deadLetters({ limit: 5 })).map((r) => [r.id, r.attempts, r.lastError])).toEqual([['n1:hook', 3, 'HTTP 503']]);
  });

  it('dead-letters at once on an answer that will not change (a 4xx)', async () => {
    const t = setup(() => ({ ok: false, retryable: false, error: 'HTTP 400' }));
    await t.outbox.start();
    await t.outbox.enqueue(notification('n1'), ['hook']);
    await t.advance(60_000, 1000);
    expect(t.tries).toHaveLength(1);
    expect((await t.store.notifierStats())[0]).toMatchObject({ dead: 1, queued: 0 });
  });

  it('keeps to the rate limit: 6 a minute with a burst of 2', async () => {
    const t = setup(() => ok, { rate: { perMinute: 6, burst: 2 } });
    await t.outbox.start();
    for (let i = 0; i < 8; i++) await t.outbox.enqueue(notification(`n${i}`), ['hook']);
    await t.advance(30_000, 500);
    // 2 at once, then one every 10 s.
    expect(t.tries.map((x) => Math.round(x.at / 1000))).toEqual([0, 0, 10, 20, 30]);
    await t.advance(60_000, 500);
    expect(t.tries).toHaveLength(8);
    expect(t.tries.map((x) => x.key)).toEqual(Array.from({ length: 8 }, (_, i) => `n${i}:hook`)); // in order
  });

  it('aborts a try that hangs at the notifier timeout and retries it', async () => {
    const t = setup((n) => (n === 1 ? 'hang' : ok));
    await t.outbox.start();
    await t.outbox.enqueue(notification('n1'), ['hook']);
    await t.advance(20_000);
    expect(t.tries.map((x) => x.at)).toEqual([0, expect.any(Number)]);
    expect(t.tries[1]!.at).toBeGreaterThanOrEqual(5_000 + 800);
    expect(t.outcomes.map((o) => o.ok)).toEqual([false, true]);
  });

  it('a restart resends what was not delivered and nothing that was', async () => {
    const store = new MemoryAlertStore();
    const clock = new FakeClock(T0);
    const first = setup(() => fail, { store, clock });
    await first.outbox.start();
    await first.outbox.enqueue(notification('n1'), ['hook']);
    await first.outbox.enqueue(notification('n2'), ['hook']);
    await first.advance(100);
    await first.outbox.stop();
    await store.markDelivered('n2:hook', clock.now()); // n2 went out before the stop
    const second = setup(() => ok, { store, clock });
    await second.outbox.start();
    await second.advance(30_000);
    expect(second.tries.map((x) => x.key)).toEqual(['n1:hook']);
  });
});
