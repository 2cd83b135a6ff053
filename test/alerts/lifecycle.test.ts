import { describe, expect, it } from 'vitest';
import { step, type AlertRuntime, type LifecycleEvent } from '../../src/alerts/lifecycle.js';
import type { RuleTiming } from '../../src/alerts/rules.js';
import type { Level } from '../../src/alerts/types.js';

const S = 1000;

function runtime(now: number): AlertRuntime {
  return {
    condition: false,
    clearedAt: null,
    record: {
      id: 'a',
      rule: 'r',
      labels: { rule: 'r', service: 's' },
      annotations: {},
      level: 'warning',
      state: 'pending',
      activeSince: now,
      firedAt: null,
      resolvedAt: null,
      value: null,
      summary: '',
      reminders: 0,
      notified: false,
      foldedInto: null,
      lastRemediationAt: null,
      timeline: [],
      updatedAt: now,
    },
  };
}

const timing = (over: Partial<RuleTiming> = {}): RuleTiming => ({
  forMs: 0,
  keepFiringForMs: 0,
  escalate: null,
  repeatMs: null,
  maxReminders: Infinity,
  ...over,
});

/**
 * Drive one alert through a script of (time in s, verdict or "tick") and
 * collect "t:event" strings; ticks come from the wakeAt the step returns, as
 * the engine's timer would.
 */
function drive(t: RuleTiming, script: Array<[number, boolean]>, until: number, level: Level = 'warning'): string[] {
  const rt = runtime(script[0]![0] * S);
  const out: string[] = [];
  let wake: number | null = null;
  const record = (now: number, events: LifecycleEvent[]) => {
    for (const e of events) out.push(`${now / S}:${e}`);
  };
  let i = 0;
  let dropped = false;
  for (;;) {
    const nextObs = i < script.length ? script[i]![0] * S : Infinity;
    const nextWake = wake ?? Infinity;
    const now = Math.min(nextObs, nextWake);
    if (now === Infinity || now > until * S) break;
    let verdict: boolean | null = null;
    if (nextObs <= nextWake) verdict = script[i++]![1];
    if (dropped) {
      if (!verdict) continue;
      Object.assign(rt, runtime(now));
      dropped = false;
    }
    const r = step(rt, verdict, now, t, level);
    record(now, r.events);
    if (r.events.includes('cancelled')) dropped = true;
    wake = r.wakeAt;
  }
  return out;
}

describe('for: (pending until the condition has held this long)', () => {
  it.each([
    ['for 0 fires on the first verdict', 0, [[0, true]], ['0:firing']],
    [
      'for 30s fires at 30 s, not at 29',
      30,
      [
        [0, true],
        [29, true],
      ],
      ['30:firing'],
    ],
    [
      'cleared at 20 s: cancelled, never fires',
      30,
      [
        [0, true],
        [20, false],
      ],
      ['20:cancelled'],
    ],
    [
      'cleared then back at 25 s: the wait starts again, fires at 55 s',
      30,
      [
        [0, true],
        [20, false],
        [25, true],
      ],
      ['20:cancelled', '55:firing'],
    ],
  ] as const)('%s', (_name, forS, script, expected) => {
    expect(
      drive(
        timing({ forMs: forS * S }),
        script.map(([a, b]) => [a, b]),
        120,
      ),
    ).toEqual(expected);
  });
});

describe('keep_firing_for (stays firing after the condition clears)', () => {
  it.each([
    [
      '0: resolves at once',
      0,
      [
        [0, true],
        [10, false],
      ],
      ['0:firing', '10:resolved'],
    ],
    [
      '60s: resolves 60 s after clearing',
      60,
      [
        [0, true],
        [10, false],
      ],
      ['0:firing', '10:cleared', '70:resolved'],
    ],
    [
      '60s: back within 60 s, no resolve',
      60,
      [
        [0, true],
        [10, false],
        [40, true],
        [200, true],
      ],
      ['0:firing', '10:cleared'],
    ],
    [
      '60s: a second clearing restarts the wait',
      60,
      [
        [0, true],
        [10, false],
        [40, true],
        [50, false],
      ],
      ['0:firing', '10:cleared', '50:cleared', '110:resolved'],
    ],
  ] as const)('%s', (_name, keepS, script, expected) => {
    expect(
      drive(
        timing({ keepFiringForMs: keepS * S }),
        script.map(([a, b]) => [a, b]),
        300,
      ),
    ).toEqual(expected);
  });
});

describe('reminders (repeat, capped by max_reminders)', () => {
  it.each([
    ['every 10 min, no cap: 6 in an hour', Infinity, 3600, 6],
    ['every 10 min, max 2: 2 in an hour', 2, 3600, 2],
    ['max 0: none', 0, 3600, 0],
  ])('%s', (_name, max, untilS, count) => {
    const events = drive(timing({ repeatMs: 600 * S, maxReminders: max }), [[0, true]], untilS);
    expect(events.filter((e) => e.endsWith(':reminder'))).toHaveLength(count);
    if (count > 0) expect(events[1]).toBe('600:reminder');
  });

  it('counts again from zero in a new firing episode', () => {
    const events = drive(
      timing({ repeatMs: 600 * S, maxReminders: 1 }),
      [
        [0, true],
        [700, false],
        [800, true],
      ],
      2000,
    );
    expect(events).toEqual(['0:firing', '600:reminder', '700:resolved', '800:pending', '800:firing', '1400:reminder']);
  });
});

describe('escalation', () => {
  it('steps up once after `after` while firing', () => {
    const rt = runtime(0);
    step(rt, true, 0, timing({ escalate: { afterMs: 900 * S, to: 'critical' } }), 'warning');
    expect(rt.record.level).toBe('warning');
    const r1 = step(rt, null, 899 * S, timing({ escalate: { afterMs: 900 * S, to: 'critical' } }), 'warning');
    expect(r1.events).toEqual([]);
    expect(r1.wakeAt).toBe(900 * S);
    const r2 = step(rt, null, 900 * S, timing({ escalate: { afterMs: 900 * S, to: 'critical' } }), 'warning');
    expect(r2.events).toEqual(['escalated']);
    expect(rt.record.level).toBe('critical');
    expect(step(rt, true, 2000 * S, timing({ escalate: { afterMs: 900 * S, to: 'critical' } }), 'warning').events).toEqual([]);
  });

  it('does not escalate an alert that resolved before `after`, and a new episode starts at the base level', () => {
    const t = timing({ escalate: { afterMs: 900 * S, to: 'critical' } });
    expect(
      drive(
        t,
        [
          [0, true],
          [600, false],
          [700, true],
        ],
        1800,
      ),
    ).toEqual(['0:firing', '600:resolved', '700:pending', '700:firing', '1600:escalated']);
  });
});
