import { describe, expect, it } from 'vitest';
import type { FlapSettings } from '../../src/core/check.js';
import type { CheckResult } from '../../src/core/result.js';
import type { HealthStatus } from '../../src/core/status.js';
import {
  FLAP_WEIGHT_NEWEST,
  FLAP_WEIGHT_OLDEST,
  flapShare,
  initialState,
  next,
  type CheckState,
  type MachineSettings,
  type Step,
  type Transition,
} from '../../src/status/machine.js';

const H: HealthStatus = 'HEALTHY';
const D: HealthStatus = 'DEGRADED';
const U: HealthStatus = 'UNHEALTHY';
const X: HealthStatus = 'UNKNOWN';

const NAGIOS_FLAP: FlapSettings = { window: 21, low: 0.05, high: 0.2 };
const DEFAULTS: MachineSettings = { rise: 2, fall: 3, flap: NAGIOS_FLAP };
const ONE_ONE: MachineSettings = { rise: 1, fall: 1, flap: NAGIOS_FLAP };

function result(status: HealthStatus, observedAt: number): CheckResult {
  return { status, reason: status === 'HEALTHY' ? 'ok' : 'error', durationMs: 1, output: status, observedAt };
}

/** Feed statuses one per 10 s from t=10 000 and return every step. */
function run(statuses: readonly HealthStatus[], t: MachineSettings, start: CheckState = initialState(0)): Step[] {
  const steps: Step[] = [];
  let state = start;
  statuses.forEach((s, i) => {
    const step = next(state, result(s, (i + 1) * 10_000), t);
    steps.push(step);
    state = step.state;
  });
  return steps;
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

function alternating(n: number, first: HealthStatus = H, second: HealthStatus = U): HealthStatus[] {
  return Array.from({ length: n }, (_, i) => (i % 2 === 0 ? first : second));
}

describe('status machine: thresholds', () => {
  interface Row {
    name: string;
    t: MachineSettings;
    results: HealthStatus[];
    statuses: HealthStatus[];
    transitions: Transition[];
  }
  const rows: Row[] = [
    {
      name: 'takes the first HEALTHY result at once, with no rise count',
      t: DEFAULTS,
      results: [H],
      statuses: [H],
      transitions: ['changed'],
    },
    {
      name: 'takes the first UNHEALTHY result at once, with no fall count',
      t: DEFAULTS,
      results: [U],
      statuses: [U],
      transitions: ['changed'],
    },
    {
      name: 'reports a first UNKNOWN result as unchanged, then counts rise from UNKNOWN',
      t: DEFAULTS,
      results: [X, H, H],
      statuses: [X, X, H],
      transitions: ['unchanged', 'pending', 'changed'],
    },
    {
      name: 'goes UNHEALTHY after 3 consecutive failures, not 2',
      t: DEFAULTS,
      results: [H, U, U, U],
      statuses: [H, H, H, U],
      transitions: ['changed', 'pending', 'pending', 'changed'],
    },
    {
      name: 'recovers after 2 consecutive successes, not 1',
      t: DEFAULTS,
      results: [U, H, H],
      statuses: [U, U, H],
      transitions: ['changed', 'pending', 'changed'],
    },
    {
      name: 'a result equal to the status resets a pending fall',
      t: DEFAULTS,
      results: [H, U, U, H, U, U, U],
      statuses: [H, H, H, H, H, H, U],
      transitions: ['changed', 'pending', 'pending', 'unchanged', 'pending', 'pending', 'changed'],
    },
    {
      name: 'a result equal to the status resets a pending rise',
      t: DEFAULTS,
      results: [U, H, U, H, H],
      statuses: [U, U, U, U, H],
      transitions: ['changed', 'pending', 'unchanged', 'pending', 'changed'],
    },
    {
      name: 'a better result during a pending fall restarts counting in the better direction',
      t: DEFAULTS,
      results: [D, U, U, H, H],
      statuses: [D, D, D, D, H],
      transitions: ['changed', 'pending', 'pending', 'pending', 'changed'],
    },
    {
      name: 'a worse result during a pending rise restarts the fall count at 1',
      t: DEFAULTS,
      results: [D, H, U, U, U],
      statuses: [D, D, D, D, U],
      transitions: ['changed', 'pending', 'pending', 'pending', 'changed'],
    },
    {
      name: 'mixed worse results count together and the status becomes the latest (DEGRADED, UNHEALTHY, UNHEALTHY → UNHEALTHY)',
      t: DEFAULTS,
      results: [H, D, U, U],
      statuses: [H, H, H, U],
      transitions: ['changed', 'pending', 'pending', 'changed'],
    },
    {
      name: 'mixed worse results ending on DEGRADED end DEGRADED',
      t: DEFAULTS,
      results: [H, U, U, D],
      statuses: [H, H, H, D],
      transitions: ['changed', 'pending', 'pending', 'changed'],
    },
    {
      name: 'DEGRADED is worse than HEALTHY: goes DEGRADED after 3 DEGRADED results',
      t: DEFAULTS,
      results: [H, D, D, D],
      statuses: [H, H, H, D],
      transitions: ['changed', 'pending', 'pending', 'changed'],
    },
    {
      name: 'DEGRADED is better than UNHEALTHY: moves up to DEGRADED after 2 DEGRADED results',
      t: DEFAULTS,
      results: [U, D, D],
      statuses: [U, U, D],
      transitions: ['changed', 'pending', 'changed'],
    },
    {
      name: 'UNKNOWN is worse than DEGRADED: needs the fall count',
      t: DEFAULTS,
      results: [D, X, X, X],
      statuses: [D, D, D, X],
      transitions: ['changed', 'pending', 'pending', 'changed'],
    },
    {
      name: 'UNHEALTHY to UNKNOWN is a better result and needs the rise count',
      t: DEFAULTS,
      results: [U, X, X],
      statuses: [U, U, X],
      transitions: ['changed', 'pending', 'changed'],
    },
    {
      name: 'stays put on a run of equal results',
      t: DEFAULTS,
      results: [H, H, H],
      statuses: [H, H, H],
      transitions: ['changed', 'unchanged', 'unchanged'],
    },
    {
      name: 'with rise/fall 1/1 every change is immediate',
      t: ONE_ONE,
      results: [H, U, H, D, D, X, U, H],
      statuses: [H, U, H, D, D, X, U, H],
      transitions: ['changed', 'changed', 'changed', 'changed', 'unchanged', 'changed', 'changed', 'changed'],
    },
    {
      name: 'with rise/fall 1/1 a single failure goes UNHEALTHY',
      t: ONE_ONE,
      results: [H, U],
      statuses: [H, U],
      transitions: ['changed', 'changed'],
    },
    {
      name: 'treats rise/fall below 1 as 1',
      t: { rise: 0, fall: 0, flap: NAGIOS_FLAP },
      results: [H, U, H],
      statuses: [H, U, H],
      transitions: ['changed', 'changed', 'changed'],
    },
  ];

  it.each(rows)('$name', ({ t, results, statuses, transitions }) => {
    const steps = run(results, t);
    expect(steps.map((s) => s.state.status)).toEqual(statuses);
    expect(steps.map((s) => s.transition)).toEqual(transitions);
  });

  it.each([
    { name: 'pending fall counts up in the worse direction', results: [H, U, U], pending: { direction: 'worse', count: 2 } },
    { name: 'pending rise counts up in the better direction', results: [U, H], pending: { direction: 'better', count: 1 } },
    { name: 'a direction switch restarts at 1', results: [D, U, U, H], pending: { direction: 'better', count: 1 } },
    { name: 'an equal result clears pending', results: [H, U, U, H], pending: null },
    { name: 'a change clears pending', results: [H, U, U, U], pending: null },
  ])('$name', ({ results, pending }) => {
    const steps = run(results, DEFAULTS);
    expect(steps.at(-1)!.state.pending).toEqual(pending);
  });

  it('reports the status before the step as from', () => {
    const steps = run([H, U, U, U], DEFAULTS);
    expect(steps.map((s) => s.from)).toEqual([X, H, H, H]);
  });

  it('moves since to the changing result observedAt and keeps it otherwise', () => {
    const steps = run([H, H, U, U, U, U], DEFAULTS, initialState(5));
    expect(initialState(5).since).toBe(5);
    expect(steps.map((s) => s.state.since)).toEqual([10_000, 10_000, 10_000, 10_000, 50_000, 50_000]);
  });

  it('sets justChanged only on the state right after a change', () => {
    const steps = run([H, H, U, U, U, U], DEFAULTS);
    expect(steps.map((s) => s.state.justChanged)).toEqual([true, false, false, false, true, false]);
  });

  it('keeps the latest raw result even while the status is held', () => {
    const steps = run([H, U], DEFAULTS);
    expect(steps[1]!.state.status).toBe(H);
    expect(steps[1]!.state.lastResult).toEqual(result(U, 20_000));
  });

  it('counts raw consecutive successes and failures, DEGRADED and UNKNOWN as failures', () => {
    const steps = run([H, H, D, X, U, H], DEFAULTS);
    expect(steps.map((s) => s.state.consecutiveSuccesses)).toEqual([1, 2, 0, 0, 0, 1]);
    expect(steps.map((s) => s.state.consecutiveFailures)).toEqual([0, 0, 1, 2, 3, 0]);
  });

  it('starts UNKNOWN with nothing pending and no flap history', () => {
    const s = initialState(1_000);
    expect(s).toMatchObject({ status: X, since: 1_000, pending: null, lastResult: null, flapping: false, justChanged: false });
    expect(s.consecutiveFailures + s.consecutiveSuccesses).toBe(0);
    expect(flapShare(s)).toBe(0);
  });
});

describe('status machine: purity', () => {
  it.each([
    { name: 'from the initial state', before: [] as HealthStatus[], input: H },
    { name: 'during a pending fall', before: [H, U], input: U },
    { name: 'on a change', before: [H, U, U], input: U },
    { name: 'while flapping', before: alternating(21), input: U },
  ])('does not mutate the input state $name', ({ before, input }) => {
    const state = run(before, DEFAULTS).at(-1)?.state ?? initialState(0);
    const copy = structuredClone(state);
    deepFreeze(state); // a write in strict-mode ESM would throw
    const step = next(state, result(input, 999_000), DEFAULTS);
    expect(state).toEqual(copy);
    expect(step.state).not.toBe(state);
  });

  it('returns equal states for equal inputs', () => {
    const a = run([H, U, D, H, H], DEFAULTS);
    const b = run([H, U, D, H, H], DEFAULTS);
    expect(a).toEqual(b);
  });
});

/**
 * Straight transliteration of Nagios' check_for_service_flapping: a ring of
 * `window` states (filled with the first state, so unfilled slots are "no
 * change"), curved weights, divided by window - 1.
 */
function referenceShares(statuses: readonly HealthStatus[], window: number): number[] {
  const history: HealthStatus[] = [];
  const out: number[] = [];
  for (const s of statuses) {
    if (history.length === 0) history.push(...Array<HealthStatus>(window).fill(s));
    history.shift();
    history.push(s);
    let changes = 0;
    for (let x = 1; x < window; x++) {
      if (history[x] !== history[x - 1]) {
        changes += window === 2 ? 1 : ((x - 1) * (FLAP_WEIGHT_NEWEST - FLAP_WEIGHT_OLDEST)) / (window - 2) + FLAP_WEIGHT_OLDEST;
      }
    }
    out.push(changes / (window - 1));
  }
  return out;
}

/** Deterministic pseudo-random statuses (mulberry32), biased toward repeats. */
function randomStatuses(seed: number, n: number): HealthStatus[] {
  let a = seed >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const all = [H, D, U, X];
  const out: HealthStatus[] = [];
  let cur: HealthStatus = H;
  for (let i = 0; i < n; i++) {
    if (rand() < 0.35) cur = all[Math.floor(rand() * 4)]!;
    out.push(cur);
  }
  return out;
}

describe('status machine: flap detection', () => {
  it.each([2, 3, 5, 21, 31, 32, 33, 34, 48, 63, 64])('computes the same weighted change share as Nagios with a %i-result window', (window) => {
    const t: MachineSettings = { rise: 2, fall: 3, flap: { window, low: 0.05, high: 0.2 } };
    const statuses = [...randomStatuses(window * 7 + 1, 300), ...alternating(70), ...Array<HealthStatus>(70).fill(H)];
    const got = run(statuses, t).map((s) => flapShare(s.state));
    const want = referenceShares(statuses, window);
    got.forEach((g, i) => {
      expect(g, `result #${i}`).toBeCloseTo(want[i]!, 12);
    });
  });

  it.each([
    { name: 'scores 0 for a run of equal results', results: Array<HealthStatus>(30).fill(H), share: 0 },
    { name: 'scores 1 when every result in the window differs from the previous', results: alternating(21), share: 1 },
    { name: 'weighs a newest change 1.25 (of 20 slots)', results: [...Array<HealthStatus>(20).fill(H), U], share: 1.25 / 20 },
    {
      name: 'weighs the oldest change in the window 0.75 (of 20 slots)',
      results: [H, U, ...Array<HealthStatus>(19).fill(U)],
      share: 0.75 / 20,
    },
    { name: 'forgets a change once it leaves the window', results: [H, U, ...Array<HealthStatus>(20).fill(U)], share: 0 },
    { name: 'counts a DEGRADED ↔ UNHEALTHY swing as changes', results: alternating(21, D, U), share: 1 },
  ])('$name', ({ results, share }) => {
    expect(flapShare(run(results, DEFAULTS).at(-1)!.state)).toBeCloseTo(share, 12);
  });

  it('does not count the first result (from no result) as a change', () => {
    expect(flapShare(run([U], DEFAULTS)[0]!.state)).toBe(0);
  });

  it('marks flapping on the 5th alternating result, not the 4th (window 21, high 0.2)', () => {
    const steps = run(alternating(6), DEFAULTS);
    expect(steps.map((s) => s.state.flapping)).toEqual([false, false, false, false, true, true]);
    expect(flapShare(steps[3]!.state)).toBeLessThan(0.2);
    expect(flapShare(steps[4]!.state)).toBeGreaterThanOrEqual(0.2);
  });

  it('clears flapping on the 19th stable result after 21 alternating ones, not the 18th', () => {
    const steps = run([...alternating(21), ...Array<HealthStatus>(20).fill(H)], DEFAULTS);
    const stable = steps.slice(21);
    const flags = stable.map((s) => s.state.flapping);
    expect(flags.slice(0, 18)).toEqual(Array(18).fill(true));
    expect(flags.slice(18)).toEqual([false, false]);
    expect(flapShare(stable[17]!.state)).toBeGreaterThanOrEqual(0.05);
    expect(flapShare(stable[18]!.state)).toBeLessThan(0.05);
  });

  it('marks flapping whatever the rise/fall thresholds hold the status at', () => {
    const steps = run(alternating(21), DEFAULTS);
    expect(steps.at(-1)!.state.status).toBe(H);
    expect(steps.at(-1)!.state.flapping).toBe(true);
  });

  describe('hysteresis between low and high', () => {
    it('keeps flapping while the share is between low and high, and clears below low', () => {
      const steps = run([...alternating(21), ...Array<HealthStatus>(21).fill(H)], DEFAULTS);
      let prev = false;
      let heldInZone = 0;
      for (const s of steps) {
        const share = flapShare(s.state);
        const want: boolean = share >= 0.2 ? true : share < 0.05 ? false : prev;
        expect(s.state.flapping).toBe(want);
        if (share >= 0.05 && share < 0.2 && want) heldInZone++;
        prev = want;
      }
      expect(heldInZone).toBeGreaterThan(0);
    });

    it('does not start flapping while the share stays between low and high', () => {
      // Two changes: 1.25 + 1.2237 (of 20 slots) ≈ 0.124, inside 0.05..0.2.
      const steps = run([...Array<HealthStatus>(19).fill(H), U, H], DEFAULTS);
      const last = steps.at(-1)!.state;
      expect(flapShare(last)).toBeGreaterThan(0.05);
      expect(flapShare(last)).toBeLessThan(0.2);
      expect(last.flapping).toBe(false);
    });

    it.each([
      { name: 'sets flapping at exactly high (≥)', low: 0.05, high: 1.25 / 20, flapping: true },
      { name: 'keeps a clear flag just below high', low: 0.05, high: 1.25 / 20 + 1e-9, flapping: false },
      { name: 'sets flapping when low is above high (misconfigured: high wins)', low: 0.9, high: 0.01, flapping: true },
    ])('$name', ({ low, high, flapping }) => {
      const t: MachineSettings = { rise: 2, fall: 3, flap: { window: 21, low, high } };
      const steps = run([...Array<HealthStatus>(20).fill(H), U], t);
      expect(steps.at(-1)!.state.flapping).toBe(flapping);
    });

    it('clears only strictly below low (a share equal to low keeps the flag)', () => {
      const oldest = 0.75 / 20;
      const t: MachineSettings = { rise: 2, fall: 3, flap: { window: 21, low: oldest, high: 0.2 } };
      // 21 alternating results set the flag; 19 stable ones leave one change at weight 0.75.
      const steps = run([...alternating(21), ...Array<HealthStatus>(20).fill(H)], t);
      expect(flapShare(steps[39]!.state)).toBeCloseTo(oldest, 12);
      expect(steps[39]!.state.flapping).toBe(true);
      expect(steps[40]!.state.flapping).toBe(false);
    });
  });

  it('forgets changes beyond a window shrunk between results', () => {
    const wide = run(alternating(21), DEFAULTS).at(-1)!.state;
    const narrow: MachineSettings = { rise: 2, fall: 3, flap: { window: 3, low: 0.05, high: 0.2 } };
    // window 3: 2 change slots; the new H result after a U is a change, so both slots are set.
    expect(flapShare(next(wide, result(U, 1), narrow).state)).toBeCloseTo(1, 12);
    const calm = next(next(wide, result(H, 1), narrow).state, result(H, 2), narrow).state;
    expect(flapShare(calm)).toBe(0);
  });

  it('caps samples at the window size', () => {
    const steps = run(Array<HealthStatus>(25).fill(H), DEFAULTS);
    expect(steps[4]!.state.flap.samples).toBe(5);
    expect(steps.at(-1)!.state.flap.samples).toBe(21);
  });

  it.each([1, 0, 65, 2.5, Number.NaN])('rejects a flap window of %s with a RangeError', (window) => {
    const t: MachineSettings = { rise: 2, fall: 3, flap: { window, low: 0.05, high: 0.2 } };
    expect(() => next(initialState(0), result(H, 1), t)).toThrow(RangeError);
  });
});
