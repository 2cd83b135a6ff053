import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { inProcessCheck } from '../../src/checks/custom.js';
import { isTtlRunner, NOTE_MAX_BYTES, ttlCheck, type TtlRunner } from '../../src/checks/ttl.js';
import { defaultTtlInterval, ttlCheckSchema } from '../../src/config/kinds/ttl.js';
import { FakeClock } from '../../src/core/clock.js';
import type { ProbeOutcome } from '../../src/core/result.js';
import { checkDeps } from '../helpers/run-check.js';
import { ttlSpec, type TtlInput } from '../helpers/spec.js';

const T0 = 1_700_000_000_000;

/** A ttl runner, its fake clock (at T0) and a run() that uses both. */
function setup(input: TtlInput = { ttl: '30s' }): {
  runner: TtlRunner;
  clock: FakeClock;
  run: () => Promise<ProbeOutcome>;
} {
  const clock = new FakeClock(T0);
  const runner = ttlCheck(ttlSpec(input), checkDeps(clock));
  if (!isTtlRunner(runner)) throw new Error('ttlCheck did not build a TtlRunner');
  const signal = new AbortController().signal;
  return { runner, clock, run: () => runner.run({ signal, clock }) };
}

describe('ttl check config', () => {
  it('requires ttl and defaults initial_status to UNKNOWN', () => {
    expect(ttlCheckSchema.safeParse({ kind: 'ttl' }).success).toBe(false);
    expect(ttlCheckSchema.safeParse({ kind: 'ttl', ttl: '0s' }).success).toBe(false);
    expect(ttlCheckSchema.safeParse({ kind: 'ttl', ttl: '30s', initial_status: 'DEGRADED' }).success).toBe(false);
    expect(ttlCheckSchema.parse({ kind: 'ttl', ttl: '30s' })).toMatchObject({ ttl: 30_000, initial_status: 'UNKNOWN' });
  });

  it('defaults the interval to ttl/2 within 100 ms … 10 s, and keeps one that is set', () => {
    expect(ttlCheckSchema.parse({ kind: 'ttl', ttl: '4s' }).interval).toBe(2000);
    expect(ttlCheckSchema.parse({ kind: 'ttl', ttl: '1h' }).interval).toBe(10_000);
    expect(ttlCheckSchema.parse({ kind: 'ttl', ttl: '50ms' }).interval).toBe(100);
    expect(ttlCheckSchema.parse({ kind: 'ttl', ttl: '4s', interval: '3s' }).interval).toBe(3000);
    expect(defaultTtlInterval(30_000)).toBe(10_000);
  });

  it('stays an object schema with a JSON Schema (for the kinds union)', () => {
    expect(ttlCheckSchema).toBeInstanceOf(z.ZodObject);
    const js = z.toJSONSchema(ttlCheckSchema, { io: 'input', unrepresentable: 'any' }) as { required: string[] };
    expect(js.required).toEqual(['kind', 'ttl']);
  });
});

describe('ttl check', () => {
  it('is HEALTHY after a pass heartbeat, with the note as output', async () => {
    const { runner, clock, run } = setup();
    runner.heartbeat('pass', 'all queues drained', clock.now());
    clock.advance(1200);
    const r = await run();
    expect(r).toMatchObject({ status: 'HEALTHY', reason: 'ok', output: 'all queues drained' });
    expect(r.metrics).toEqual({ heartbeat_age_ms: 1200 });
  });

  it('says status and age when the heartbeat has no note', async () => {
    const { runner, clock, run } = setup();
    runner.heartbeat('pass', undefined, clock.now());
    clock.advance(2500);
    expect((await run()).output).toBe('pass heartbeat 2.5 s ago');
  });

  it('maps warn to DEGRADED ttl_warn and fail to UNHEALTHY ttl_fail', async () => {
    const { runner, clock, run } = setup();
    runner.heartbeat('warn', 'disk 91%', clock.now());
    expect(await run()).toMatchObject({ status: 'DEGRADED', reason: 'ttl_warn', output: 'disk 91%' });
    runner.heartbeat('fail', 'db down', clock.now());
    expect(await run()).toMatchObject({ status: 'UNHEALTHY', reason: 'ttl_fail', output: 'db down' });
    expect(runner.lastHeartbeat()).toEqual({ status: 'fail', note: 'db down', at: T0 });
  });

  it('expires exactly ttl after the last heartbeat, not before', async () => {
    const { runner, clock, run } = setup({ ttl: '30s' });
    runner.heartbeat('pass', 'ok', clock.now());
    clock.advance(29_999);
    expect((await run()).status).toBe('HEALTHY');
    clock.advance(1);
    const r = await run();
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'ttl_expired' });
    expect(r.output).toBe('last heartbeat (pass) 30 s ago, over ttl 30 s');
    expect(r.metrics).toEqual({ heartbeat_age_ms: 30_000 });
  });

  it('expires a warn or fail heartbeat the same way', async () => {
    const { runner, clock, run } = setup({ ttl: '10s' });
    runner.heartbeat('fail', 'broken', clock.now());
    clock.advance(10_000);
    expect(await run()).toMatchObject({ status: 'UNHEALTHY', reason: 'ttl_expired' });
  });

  it('is revived by a new heartbeat after expiring', async () => {
    const { runner, clock, run } = setup({ ttl: '5s' });
    runner.heartbeat('pass', 'first', clock.now());
    clock.advance(60_000);
    expect((await run()).reason).toBe('ttl_expired');
    runner.heartbeat('pass', 'back', clock.now());
    expect(await run()).toMatchObject({ status: 'HEALTHY', reason: 'ok', output: 'back' });
  });

  it('shows initial_status before the first heartbeat, then ttl_expired once ttl passed since start', async () => {
    for (const initial of ['UNKNOWN', 'HEALTHY', 'UNHEALTHY'] as const) {
      const { clock, run } = setup({ ttl: '30s', initial_status: initial });
      const first = await run();
      expect(first.status, initial).toBe(initial);
      expect(first.output).toContain('no heartbeat yet');
      clock.advance(29_999);
      expect((await run()).status, initial).toBe(initial);
      clock.advance(1);
      const r = await run();
      expect(r, initial).toMatchObject({ status: 'UNHEALTHY', reason: 'ttl_expired' });
      expect(r.output).toBe('no heartbeat since start 30 s ago (ttl 30 s)');
    }
  });

  it('defaults to UNKNOWN before the first heartbeat', async () => {
    const { run } = setup({ ttl: '30s' });
    expect((await run()).status).toBe('UNKNOWN');
  });

  it('keeps notes up to 1 KiB and cuts longer ones on a character boundary', async () => {
    const { runner, clock, run } = setup();
    const exact = 'x'.repeat(NOTE_MAX_BYTES);
    runner.heartbeat('pass', exact, clock.now());
    expect(runner.lastHeartbeat()?.note).toBe(exact);

    runner.heartbeat('pass', 'y'.repeat(5000), clock.now());
    const cut = runner.lastHeartbeat()?.note ?? '';
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(NOTE_MAX_BYTES);
    expect(cut.endsWith('…')).toBe(true);
    expect(cut.startsWith('y'.repeat(1000))).toBe(true);
    expect((await run()).output).toBe(cut);

    // 3-byte and 4-byte characters: never split into invalid UTF-8.
    for (const ch of ['é', '€', '🚀']) {
      runner.heartbeat('warn', ch.repeat(2000), clock.now());
      const note = runner.lastHeartbeat()?.note ?? '';
      expect(Buffer.byteLength(note), ch).toBeLessThanOrEqual(NOTE_MAX_BYTES);
      expect(Buffer.from(note).toString('utf8'), ch).toBe(note);
      expect(note.replace('…', '').replaceAll(ch, ''), ch).toBe('');
      expect(note.length, ch).toBeGreaterThan(100);
    }
  });

  it('shows a multi-line note on one line of output', async () => {
    const { runner, clock, run } = setup();
    runner.heartbeat('warn', 'line one\nline two\r\n', clock.now());
    expect((await run()).output).toBe('line one line two');
    expect(runner.lastHeartbeat()?.note).toBe('line one\nline two\r\n');
  });

  it('rejects a bad status by type, and at run time with a TypeError that changes nothing', () => {
    const { runner, clock } = setup();
    runner.heartbeat('pass', 'good', clock.now());
    // @ts-expect-error — only pass, warn and fail are heartbeat statuses.
    expect(() => runner.heartbeat('critical', undefined, clock.now())).toThrow(TypeError);
    expect(() => runner.heartbeat('PASS' as never, undefined, clock.now())).toThrow(/"pass", "warn" or "fail", got "PASS"/);
    expect(() => runner.heartbeat(undefined as never, undefined, clock.now())).toThrow(TypeError);
    expect(() => runner.heartbeat('pass', 42 as never, clock.now())).toThrow(/note must be a string/);
    expect(() => runner.heartbeat('pass', undefined, Number.NaN)).toThrow(/finite number/);
    expect(runner.lastHeartbeat()).toEqual({ status: 'pass', note: 'good', at: T0 });
  });

  it('takes a null note as none (JSON callers)', () => {
    const { runner, clock } = setup();
    runner.heartbeat('pass', null as never, clock.now());
    expect(runner.lastHeartbeat()?.note).toBeUndefined();
  });

  it('counts from a heartbeat that comes before the first run', async () => {
    const { runner, clock, run } = setup({ ttl: '10s' });
    expect(runner.lastHeartbeat()).toBeNull();
    runner.heartbeat('pass', undefined, clock.now());
    clock.advance(9000);
    expect((await run()).status).toBe('HEALTHY');
  });

  it('answers timeout when the signal is already aborted', async () => {
    const { runner, clock } = setup();
    const ac = new AbortController();
    ac.abort();
    expect(await runner.run({ signal: ac.signal, clock })).toMatchObject({ reason: 'timeout' });
  });

  it('is recognised by isTtlRunner, other runners are not', () => {
    const { runner } = setup();
    expect(isTtlRunner(runner)).toBe(true);
    expect(isTtlRunner(inProcessCheck(() => ({ status: 'pass' })))).toBe(false);
    expect(isTtlRunner({ run: () => Promise.resolve({ status: 'HEALTHY', reason: 'ok', output: '' }) })).toBe(false);
  });

  it('pushes the outcome of each heartbeat to its onPush listener, repeats included', () => {
    const { runner, clock } = setup();
    const pushed: ProbeOutcome[] = [];
    runner.onPush((o) => pushed.push(o));
    runner.heartbeat('warn', 'disk 91%', clock.now());
    runner.heartbeat('warn', 'disk 91%', clock.now());
    expect(() => runner.heartbeat('nope' as never, undefined, clock.now())).toThrow(TypeError);
    expect(pushed).toHaveLength(2);
    expect(pushed[1]).toMatchObject({ status: 'DEGRADED', reason: 'ttl_warn', output: 'disk 91%' });
  });

  it('records a heartbeat even when the listener throws', async () => {
    const { runner, clock, run } = setup();
    runner.onPush(() => {
      throw new Error('owner bug');
    });
    expect(() => runner.heartbeat('pass', undefined, clock.now())).not.toThrow();
    expect(runner.lastHeartbeat()).toMatchObject({ status: 'pass' });
    expect(await run()).toMatchObject({ status: 'HEALTHY' });
  });
});
