import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.js';
import { seeded } from '../../src/core/random.js';
import { exponentialBackoff } from '../../src/balancer/backoff.js';
import { CircuitBreaker, initialBreakerState, next, type BreakerTransition } from '../../src/balancer/breaker.js';
import { consecutiveFailures, failureRatio, type TripStrategy } from '../../src/balancer/trip.js';

/** One step of a scenario: move time, then act, then check. */
type Step =
  | { at: number; do: 'ok' | 'fail' | 'slow'; expect?: string }
  | { at: number; do: 'allow'; expect: boolean; state?: string }
  | { at: number; do: 'check'; state: string; opens?: number; reopensAt?: number };

function build(trip: (clock: FakeClock) => TripStrategy, halfOpenMaxTrials = 2) {
  const clock = new FakeClock(0);
  const changes: BreakerTransition[] = [];
  const breaker = new CircuitBreaker({
    clock,
    trip: trip(clock),
    backoff: exponentialBackoff({ baseMs: 1_000, maxMs: 8_000, resetAfterSuccesses: 3 }),
    halfOpenMaxTrials,
    slowCallMs: 500,
    onStateChange: (c) => changes.push(c),
  });
  return { clock, breaker, changes };
}

function run(steps: Step[], b: ReturnType<typeof build>): void {
  for (const [i, s] of steps.entries()) {
    const where = `step ${i} at ${s.at} ms: ${s.do}`;
    b.clock.advance(s.at - b.clock.now());
    if (s.do === 'allow') {
      expect(b.breaker.allow(), where).toBe(s.expect);
      if (s.state) expect(b.breaker.state.kind, where).toBe(s.state);
    } else if (s.do === 'check') {
      const st = b.breaker.state;
      expect(st.kind, where).toBe(s.state);
      if (s.opens !== undefined) expect(st.opens, where).toBe(s.opens);
      if (s.reopensAt !== undefined) expect(st.kind === 'open' ? st.reopensAt : undefined, where).toBe(s.reopensAt);
    } else {
      b.breaker.report({ ok: s.do !== 'fail', latencyMs: s.do === 'slow' ? 900 : 10 });
      if (s.expect) expect(b.breaker.state.kind, where).toBe(s.expect);
    }
  }
}

describe('CircuitBreaker', () => {
  it('opens after 3 consecutive failures, not 2, and a success resets the run', () => {
    const b = build(() => consecutiveFailures({ threshold: 3 }));
    run(
      [
        { at: 0, do: 'fail', expect: 'closed' },
        { at: 1, do: 'fail', expect: 'closed' },
        { at: 2, do: 'ok', expect: 'closed' },
        { at: 3, do: 'fail', expect: 'closed' },
        { at: 4, do: 'fail', expect: 'closed' },
        { at: 5, do: 'fail', expect: 'open' },
        { at: 5, do: 'check', state: 'open', opens: 1, reopensAt: 1_005 },
        { at: 6, do: 'allow', expect: false },
        { at: 1_004, do: 'allow', expect: false },
      ],
      b,
    );
    expect(b.changes.map((c) => `${c.from.kind}->${c.to.kind}`)).toEqual(['closed->open']);
    expect(b.changes[0]!.figures).toEqual({ consecutiveFailures: 3, threshold: 3 });
  });

  it('counts a call slower than slowCallMs as a failure', () => {
    const b = build(() => consecutiveFailures({ threshold: 2 }));
    run(
      [
        { at: 0, do: 'slow', expect: 'closed' },
        { at: 1, do: 'slow', expect: 'open' },
      ],
      b,
    );
  });

  it('trips on failure ratio only once the window holds minRequests calls', () => {
    const b = build((clock) => failureRatio({ clock, windowMs: 10_000, buckets: 10, threshold: 0.5, minRequests: 6 }));
    run(
      [
        // 4 of 5 failing is 80 % but below 6 calls: stays closed.
        { at: 0, do: 'fail', expect: 'closed' },
        { at: 100, do: 'fail', expect: 'closed' },
        { at: 200, do: 'ok', expect: 'closed' },
        { at: 300, do: 'fail', expect: 'closed' },
        { at: 400, do: 'fail', expect: 'closed' },
        // 6th call: 5/6 ≥ 50 %: opens.
        { at: 500, do: 'fail', expect: 'open' },
      ],
      b,
    );
  });

  it('forgets calls that slid out of the window', () => {
    const b = build((clock) => failureRatio({ clock, windowMs: 10_000, buckets: 10, threshold: 0.5, minRequests: 4 }));
    run(
      [
        { at: 0, do: 'fail', expect: 'closed' },
        { at: 1_000, do: 'fail', expect: 'closed' },
        { at: 2_000, do: 'fail', expect: 'closed' },
        // The first three are older than 10 s now: 1 failure out of 1 call.
        { at: 12_500, do: 'fail', expect: 'closed' },
        { at: 12_600, do: 'ok', expect: 'closed' },
        { at: 12_700, do: 'ok', expect: 'closed' },
        // 2 of 4 in the window = 50 %: opens.
        { at: 12_800, do: 'fail', expect: 'open' },
      ],
      b,
    );
  });

  it('admits only halfOpenMaxTrials trial calls in half-open', () => {
    const b = build(() => consecutiveFailures({ threshold: 1 }), 2);
    run(
      [
        { at: 0, do: 'fail', expect: 'open' },
        { at: 999, do: 'allow', expect: false, state: 'open' },
        { at: 1_000, do: 'allow', expect: true, state: 'half-open' },
        { at: 1_001, do: 'allow', expect: true, state: 'half-open' },
        { at: 1_002, do: 'allow', expect: false, state: 'half-open' },
        { at: 1_003, do: 'allow', expect: false, state: 'half-open' },
      ],
      b,
    );
    expect(b.breaker.tryAcquire()).toBe(false);
  });

  it('reopens with a growing, capped backoff when a trial fails', () => {
    const b = build(() => consecutiveFailures({ threshold: 1 }), 1);
    run(
      [
        { at: 0, do: 'fail' },
        { at: 0, do: 'check', state: 'open', opens: 1, reopensAt: 1_000 },
        { at: 1_000, do: 'allow', expect: true },
        { at: 1_010, do: 'fail' },
        { at: 1_010, do: 'check', state: 'open', opens: 2, reopensAt: 3_010 },
        { at: 3_010, do: 'allow', expect: true },
        { at: 3_020, do: 'fail' },
        { at: 3_020, do: 'check', state: 'open', opens: 3, reopensAt: 7_020 },
        { at: 7_020, do: 'allow', expect: true },
        { at: 7_030, do: 'fail' },
        { at: 7_030, do: 'check', state: 'open', opens: 4, reopensAt: 15_030 },
        { at: 15_030, do: 'allow', expect: true },
        { at: 15_040, do: 'fail' },
        // 16 s would exceed maxMs: capped at 8 s.
        { at: 15_040, do: 'check', state: 'open', opens: 5, reopensAt: 23_040 },
      ],
      b,
    );
  });

  it('closes once every trial succeeded, and resets the backoff after a success streak', () => {
    const b = build(() => consecutiveFailures({ threshold: 1 }), 2);
    run(
      [
        { at: 0, do: 'fail' },
        { at: 1_000, do: 'allow', expect: true },
        { at: 1_000, do: 'fail' },
        { at: 1_000, do: 'check', state: 'open', opens: 2, reopensAt: 3_000 },
        { at: 3_000, do: 'allow', expect: true },
        { at: 3_000, do: 'allow', expect: true },
        { at: 3_010, do: 'ok', expect: 'half-open' },
        { at: 3_020, do: 'ok', expect: 'closed' },
        // Two trial successes count toward the streak of 3: one more resets the level.
        { at: 3_030, do: 'ok', expect: 'closed' },
        { at: 3_040, do: 'fail' },
        // Level back to 1: base 1 s again.
        { at: 3_040, do: 'check', state: 'open', opens: 3, reopensAt: 4_040 },
      ],
      b,
    );
    expect(b.changes.map((c) => `${c.from.kind}->${c.to.kind}`)).toEqual([
      'closed->open',
      'open->half-open',
      'half-open->open',
      'open->half-open',
      'half-open->closed',
      'closed->open',
    ]);
  });

  it('in the steady state (closed, level 0, streak past the reset) a success keeps the same state object, and the trip strategy still counts', () => {
    const b = build(() => consecutiveFailures({ threshold: 3 }));
    for (let i = 0; i < 3; i++) b.breaker.report({ ok: true, latencyMs: 10 });
    const steady = b.breaker.state;
    for (let i = 0; i < 100; i++) {
      expect(b.breaker.tryAcquire()).toBe(true);
      b.breaker.report({ ok: true, latencyMs: 10 });
    }
    expect(b.breaker.state).toBe(steady);
    b.breaker.report({ ok: false, latencyMs: 10 });
    b.breaker.report({ ok: true, latencyMs: 10 }); // the run of failures starts again
    for (let i = 0; i < 3; i++) b.breaker.report({ ok: false, latencyMs: 10 });
    expect(b.breaker.state.kind).toBe('open');
    expect(b.changes.map((c) => c.to.kind)).toEqual(['open']);
  });

  it('keeps the growing backoff when closing without a full success streak', () => {
    const b = build(() => consecutiveFailures({ threshold: 1 }), 1);
    run(
      [
        { at: 0, do: 'fail' },
        { at: 1_000, do: 'allow', expect: true },
        { at: 1_000, do: 'ok', expect: 'closed' },
        { at: 1_100, do: 'fail' },
        // Level 2: 2 s.
        { at: 1_100, do: 'check', state: 'open', opens: 2, reopensAt: 3_100 },
      ],
      b,
    );
  });
});

describe('next() (pure transitions)', () => {
  const cfg = { halfOpenMaxTrials: 1, backoff: exponentialBackoff({ baseMs: 100, maxMs: 1_000 }) };

  it('returns changed=false and the same data for events that do not move the state', () => {
    const s = initialBreakerState(0);
    const step = next(s, { type: 'failure', now: 5, tripped: false }, cfg);
    expect(step.changed).toBe(false);
    expect(step.state).toEqual({ ...s, successStreak: 0 });
  });

  it('counts a success streak up to the reset, then, with the level at 0, leaves the state as it is', () => {
    const c = { halfOpenMaxTrials: 1, backoff: exponentialBackoff({ baseMs: 100, maxMs: 1_000, resetAfterSuccesses: 2 }) };
    let s = next(initialBreakerState(0), { type: 'success', now: 1 }, c).state;
    expect(s).toMatchObject({ kind: 'closed', successStreak: 1 });
    s = next(s, { type: 'success', now: 2 }, c).state;
    expect(s).toMatchObject({ kind: 'closed', successStreak: 2, level: 0 });
    expect(next(s, { type: 'success', now: 3 }, c).state).toBe(s);
    // With a level still to reset the streak counts on.
    const tripped = next(next(s, { type: 'failure', now: 4, tripped: true }, c).state, { type: 'success', now: 200 }, c).state;
    expect(tripped).toMatchObject({ kind: 'closed', level: 1, successStreak: 1 });
  });

  it('ignores late results while open', () => {
    const open = next(initialBreakerState(0), { type: 'failure', now: 0, tripped: true }, cfg).state;
    expect(next(open, { type: 'failure', now: 50, tripped: true }, cfg).state).toBe(open);
    expect(next(open, { type: 'success', now: 50 }, cfg).state).toBe(open);
  });
});

describe('exponentialBackoff', () => {
  it('jitters within ±jitter around the exponential value and never beyond the cap', () => {
    const b = exponentialBackoff({ baseMs: 1_000, maxMs: 5_000, jitter: 0.2, random: seeded(7) });
    for (let i = 0; i < 50; i++) {
      const d1 = b.durationMs(1);
      expect(d1).toBeGreaterThanOrEqual(800);
      expect(d1).toBeLessThan(1_200);
      expect(b.durationMs(5)).toBeLessThanOrEqual(5_000);
    }
  });
});
