import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.js';
import { seeded } from '../../src/core/random.js';
import { LeastLatencyPicker, MaglevPicker, P2cPicker, RandomPicker, WrrPicker, pickerKinds, type PickerKind } from '../../src/balancer/pickers/index.js';
import type { Instance, Picker } from '../../src/balancer/types.js';

const members = (weights: number[], prefix = 'i'): Instance[] => weights.map((weight, i) => ({ id: `${prefix}${i}`, weight }));

const picksOf = (p: Picker, n: number, key?: (i: number) => string): string[] => {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(p.pick(key?.(i))!.id);
  return out;
};

const tally = (ids: string[]): Map<string, number> => {
  const m = new Map<string, number>();
  for (const id of ids) m.set(id, (m.get(id) ?? 0) + 1);
  return m;
};

describe('WrrPicker (EDF)', () => {
  const weightSets = [
    [1, 1, 1],
    [5, 1, 1],
    [3, 2, 1],
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    [40, 1, 1, 7, 13],
    [2, 2, 2, 2, 100],
  ];

  it('gives each instance exactly its weight in every full cycle of Σw picks', () => {
    for (const ws of weightSets) {
      const W = ws.reduce((a, b) => a + b, 0);
      const p = new WrrPicker(members(ws));
      for (let cycle = 0; cycle < 5; cycle++) {
        const counts = tally(picksOf(p, W));
        ws.forEach((w, i) => {
          expect(counts.get(`i${i}`) ?? 0, `weights ${ws} cycle ${cycle} i${i}`).toBe(w);
        });
      }
    }
  });

  it('interleaves: the gap between two picks of an instance stays within n−1 of Σw/w', () => {
    // EDF bound: between deadlines d and d + 1/w of instance i, every other j
    // has between w_j/w − 1 and w_j/w + 1 deadlines, so the gap in picks is
    // W/w ± (n − 1). Naive round robin (aaaaab) breaks it: gap 1 vs W/w = 1.2.
    for (const ws of weightSets) {
      const n = ws.length;
      const W = ws.reduce((a, b) => a + b, 0);
      const seq = picksOf(new WrrPicker(members(ws)), 4 * W);
      ws.forEach((w, i) => {
        const at = seq.flatMap((id, k) => (id === `i${i}` ? [k] : []));
        for (let k = 1; k < at.length; k++) {
          const gap = at[k]! - at[k - 1]!;
          expect(Math.abs(gap - W / w), `weights ${ws} i${i}`).toBeLessThanOrEqual(n - 1);
        }
      });
    }
  });

  it('never picks an instance twice in a row while another has at least its weight', () => {
    for (const ws of weightSets) {
      const seq = picksOf(new WrrPicker(members(ws)), 3 * ws.reduce((a, b) => a + b, 0));
      for (let k = 1; k < seq.length; k++) {
        if (seq[k] !== seq[k - 1]) continue;
        const w = ws[Number(seq[k]!.slice(1))]!;
        const others = ws.filter((_, i) => `i${i}` !== seq[k]);
        expect(
          others.every((o) => o < w),
          `weights ${ws}: ${seq[k]} twice at ${k}`,
        ).toBe(true);
      }
    }
  });

  it('follows a new membership after update()', () => {
    const p = new WrrPicker(members([1, 1, 1]));
    picksOf(p, 7);
    p.update([
      { id: 'i0', weight: 2 },
      { id: 'new', weight: 3 },
    ]);
    const counts = tally(picksOf(p, 5 * 10));
    expect(Object.fromEntries(counts)).toEqual({ i0: 20, new: 30 });
  });

  it('keeps its place across reweight(): frequent reweights do not starve the end of the list', () => {
    const p = new WrrPicker(members(Array.from({ length: 100 }, () => 1)));
    const counts = new Map<string, number>();
    for (let i = 0; i < 1000; i++) {
      if (i % 10 === 0) p.reweight(); // as often as a slow-start ramp or score refresh might
      const id = p.pick()!.id;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    expect(counts.size).toBe(100);
    expect(Math.min(...counts.values())).toBe(10);
    expect(Math.max(...counts.values())).toBe(10);
  });

  it('uses the effective weight function and skips weight 0 on reweight()', () => {
    const score = new Map([
      ['i0', 1],
      ['i1', 1],
    ]);
    const p = new WrrPicker(members([2, 2]), { weight: (i) => i.weight * score.get(i.id)! });
    expect(Object.fromEntries(tally(picksOf(p, 4)))).toEqual({ i0: 2, i1: 2 });
    score.set('i1', 0);
    p.reweight();
    expect(Object.fromEntries(tally(picksOf(p, 4)))).toEqual({ i0: 4 });
    score.set('i1', 0.5);
    p.reweight();
    expect(Object.fromEntries(tally(picksOf(p, 3 * 10)))).toEqual({ i0: 20, i1: 10 });
  });
});

describe('P2cPicker', () => {
  it('never picks the most loaded instance', () => {
    const p = new P2cPicker(members([1, 1, 1, 1]), { random: seeded(1) });
    for (let k = 0; k < 5; k++) p.begin('i2');
    for (let k = 0; k < 2; k++) p.begin('i0');
    const counts = tally(picksOf(p, 10_000));
    expect(counts.get('i2')).toBeUndefined();
    // i0 (2 outstanding) only wins against i2, i.e. in 1/6 of the pairs.
    expect(counts.get('i0')! / 10_000).toBeCloseTo(1 / 6, 1);
  });

  it('keeps load even under a closed loop of begin/end', () => {
    const p = new P2cPicker(members(new Array(10).fill(1)), { random: seeded(2) });
    const inflight: string[] = [];
    for (let k = 0; k < 20_000; k++) {
      const id = p.pick()!.id;
      p.begin(id);
      inflight.push(id);
      if (inflight.length > 50) p.end(inflight.shift()!);
    }
    const loads = Array.from({ length: 10 }, (_, i) => p.outstanding(`i${i}`));
    expect(loads.reduce((a, b) => a + b, 0)).toBe(50);
    expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(2);
  });

  it('keeps counters of staying instances across update() and ignores unknown ids', () => {
    const p = new P2cPicker(members([1, 1, 1]), { random: seeded(3) });
    p.begin('i1');
    p.begin('i1');
    p.begin('i2');
    p.update([
      { id: 'x', weight: 1 },
      { id: 'i1', weight: 1 },
    ]);
    expect(p.outstanding('i1')).toBe(2);
    expect(p.outstanding('i2')).toBe(0);
    p.end('i2');
    p.end('x');
    expect(p.outstanding('x')).toBe(0);
    expect(new Set(picksOf(p, 100))).toEqual(new Set(['x']));
  });
});

describe('LeastLatencyPicker', () => {
  it('sends much less to a slow instance', () => {
    const clock = new FakeClock(0);
    const p = new LeastLatencyPicker(members([1, 1, 1, 1]), { random: seeded(4), clock });
    const latency = (id: string): number => (id === 'i3' ? 100 : 10);
    const ids: string[] = [];
    for (let k = 0; k < 20_000; k++) {
      clock.advance(1);
      const id = p.pick()!.id;
      ids.push(id);
      p.observe(id, latency(id));
    }
    const counts = tally(ids.slice(1000));
    expect(counts.get('i3') ?? 0).toBeLessThan(0.02 * 19_000);
    for (const id of ['i0', 'i1', 'i2']) expect(counts.get(id)!).toBeGreaterThan(0.28 * 19_000);
  });

  it('reacts to a latency peak at once and forgets it with time', () => {
    const clock = new FakeClock(0);
    const p = new LeastLatencyPicker(members([1, 1]), { random: seeded(5), clock, decayMs: 1000 });
    p.observe('i0', 10);
    p.observe('i0', 500);
    expect(p.estimate('i0')).toBe(500);
    clock.advance(1000);
    expect(p.estimate('i0')).toBeCloseTo(500 / Math.E, 6);
  });
});

describe('MaglevPicker', () => {
  const keys = Array.from({ length: 100_000 }, (_, i) => `user-${i}`);

  it('spreads 100k keys within ±10% of even over 10 instances', () => {
    const p = new MaglevPicker(members(new Array(10).fill(1)), { random: seeded(6) });
    const counts = tally(keys.map((k) => p.pick(k)!.id));
    expect(counts.size).toBe(10);
    for (const c of counts.values()) expect(Math.abs(c - 10_000)).toBeLessThan(1_000);
  });

  it('moves only the keys of the instance that left', () => {
    const all = members(new Array(10).fill(1));
    const p = new MaglevPicker(all, { random: seeded(7) });
    const before = keys.map((k) => p.pick(k)!.id);
    p.update(all.filter((i) => i.id !== 'i4'));
    const after = keys.map((k) => p.pick(k)!.id);
    let moved = 0;
    let movedOthers = 0;
    for (let k = 0; k < keys.length; k++) {
      if (before[k] === after[k]) continue;
      moved++;
      if (before[k] !== 'i4') movedOthers++;
    }
    expect(after.includes('i4')).toBe(false);
    expect(moved / keys.length).toBeLessThanOrEqual(0.1 + 0.02);
    expect(movedOthers / keys.length).toBeLessThan(0.02);
  });

  it('is stable for a key and gives weighted shares of the table', () => {
    const p = new MaglevPicker(members([1, 2, 1]), { random: seeded(8), tableSize: 1009 });
    expect(p.pick('abc')).toBe(p.pick('abc'));
    const shares = p.shares();
    expect(shares.get('i1')!).toBeCloseTo(0.5, 2);
    expect(shares.get('i0')!).toBeCloseTo(0.25, 2);
  });

  it('rejects a table size that is not prime', () => {
    expect(() => new MaglevPicker(members([1]), { random: seeded(1), tableSize: 1000 })).toThrow(/not a prime/);
  });
});

describe('RandomPicker', () => {
  it('matches weights within 3% over 100k seeded picks', () => {
    const ws = [1, 2, 3, 4, 10];
    const W = 20;
    const counts = tally(picksOf(new RandomPicker(members(ws), { random: seeded(9) }), 100_000));
    ws.forEach((w, i) => {
      const expected = (100_000 * w) / W;
      expect(Math.abs(counts.get(`i${i}`)! - expected) / expected).toBeLessThan(0.03);
    });
  });

  it('follows update() and never picks a removed instance', () => {
    const p = new RandomPicker(members([1, 1, 1]), { random: seeded(10) });
    p.update(members([3, 1], 'n'));
    const counts = tally(picksOf(p, 40_000));
    expect([...counts.keys()].sort()).toEqual(['n0', 'n1']);
    expect(counts.get('n0')! / 40_000).toBeCloseTo(0.75, 1);
  });
});

describe('every picker kind', () => {
  const kinds = Object.keys(pickerKinds) as PickerKind[];
  it.each(kinds)('%s: undefined when empty, rejects bad input, single member always picked', (kind) => {
    const p = pickerKinds[kind]([], { random: seeded(11), clock: new FakeClock(0) });
    expect(p.pick('k')).toBeUndefined();
    p.update([{ id: 'only', weight: 3 }]);
    expect(new Set(picksOf(p, 50, (i) => `k${i}`))).toEqual(new Set(['only']));
    expect(() => p.update([{ id: 'a', weight: 0 }])).toThrow(/positive integer/);
    expect(() =>
      p.update([
        { id: 'a', weight: 1 },
        { id: 'a', weight: 1 },
      ]),
    ).toThrow(/duplicate/);
  });
});
