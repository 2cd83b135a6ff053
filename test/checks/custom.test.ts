import { execFileSync } from 'node:child_process';
import { closeSync, constants, existsSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCustomCheckKind, inProcessCheck, resolveModulePath, toOutcome, type CustomCheckKind } from '../../src/checks/custom.js';
import { customCheckSchema } from '../../src/config/kinds/custom.js';
import type { CheckRunner } from '../../src/core/check.js';
import { FakeClock, flushMicrotasks } from '../../src/core/clock.js';
import { openFds, settleFds, settleThreads, threadCount } from '../helpers/fds.js';
import { attempt, checkDeps, type TimedOutcome } from '../helpers/run-check.js';
import { customSpec, type CustomInput } from '../helpers/spec.js';
import { waitFor } from '../helpers/spawn.js';

/** Absolute path of a fixture module in test/fixtures/custom. */
function fixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/custom/${name}.mjs`, import.meta.url));
}

/** Each test gets its own factory, so its pools and worker count are its own. */
let kind: CustomCheckKind;
const runners: CheckRunner[] = [];

function checkOf(module: string, input: Omit<CustomInput, 'module'> = {}, timeoutMs = 5000, name = 'custom'): CheckRunner {
  const runner = kind(customSpec({ module: fixture(module), ...input }, timeoutMs, name), checkDeps());
  runners.push(runner);
  return runner;
}

async function runOnce(module: string, input: Omit<CustomInput, 'module'> = {}, timeoutMs = 5000): Promise<TimedOutcome> {
  return attempt(checkOf(module, input, timeoutMs), timeoutMs);
}

/**
 * Runs `healthy` over and over until `hostile` settles, so a test sees that
 * other checks keep answering while one misbehaves. Returns both.
 */
async function alongsideHealthy(hostile: Promise<TimedOutcome>): Promise<{ result: TimedOutcome; healthy: TimedOutcome[] }> {
  const healthy = checkOf('healthy', {}, 5000, 'healthy');
  let settled = false;
  const result = hostile.finally(() => (settled = true));
  const seen: TimedOutcome[] = [];
  // At least two answers, and keep going until the hostile run is over.
  while (!settled || seen.length < 2) seen.push(await attempt(healthy, 5000));
  return { result: await result, healthy: seen };
}

beforeAll(async () => {
  // Start libuv's thread pool before any thread baseline is taken.
  await readFile(fixture('healthy'));
});

beforeEach(() => {
  kind = createCustomCheckKind();
});

afterEach(async () => {
  while (runners.length > 0) await runners.pop()?.close?.();
  expect(kind.liveWorkers()).toBe(0);
});

describe('custom check in a worker', { timeout: 30_000 }, () => {
  it('maps a HEALTHY return with its metrics and output', async () => {
    const r = await runOnce('healthy');
    expect(r).toMatchObject({ status: 'HEALTHY', reason: 'ok', output: 'run 1 of svc/i1/custom' });
    expect(r.metrics).toEqual({ runs: 1, latency_ms: 1.5 });
  });

  it('maps warn/DEGRADED, fail/UNHEALTHY and UNKNOWN returns', async () => {
    const warn = await runOnce('degraded');
    expect(warn).toMatchObject({ status: 'DEGRADED', reason: 'threshold_warning', output: 'queue depth 120 over 100' });
    expect(warn.metrics).toEqual({ queue_depth: 120 });
    expect(await runOnce('degraded', { params: { status: 'DEGRADED' } })).toMatchObject({
      status: 'DEGRADED',
      reason: 'threshold_warning',
    });
    expect(await runOnce('degraded', { params: { status: 'fail' } })).toMatchObject({
      status: 'UNHEALTHY',
      reason: 'threshold_critical',
    });
    expect(await runOnce('degraded', { params: { status: 'UNHEALTHY' } })).toMatchObject({
      status: 'UNHEALTHY',
      reason: 'threshold_critical',
    });
    expect(await runOnce('degraded', { params: { status: 'UNKNOWN' } })).toMatchObject({
      status: 'UNKNOWN',
      reason: 'custom_failed',
    });
  });

  it('passes params and the check identity in ctx', async () => {
    const params = { threshold: 5, tags: ['a', 'b'], nested: { on: true, none: null } };
    const r = await runOnce('params', { params });
    expect(r.status).toBe('HEALTHY');
    expect(JSON.parse(r.output)).toEqual({
      params,
      check: { id: 'svc/i1/custom', service: 'svc', instance: 'i1', address: '127.0.0.1:9' },
      signal: true,
    });
  });

  it('resolves a relative module path against the working directory', async () => {
    const rel = relative(process.cwd(), fixture('healthy'));
    expect(rel.startsWith('/')).toBe(false);
    expect(resolveModulePath(rel)).toBe(fixture('healthy'));
    const runner = kind(customSpec({ module: rel }), checkDeps());
    runners.push(runner);
    expect((await attempt(runner, 5000)).status).toBe('HEALTHY');
  });

  it('reports a thrown error as UNHEALTHY custom_failed with its message', async () => {
    const r = await runOnce('throws');
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'custom_failed' });
    expect(r.output).toBe('check threw: database unreachable');
  });

  it('reports every bad return shape as UNKNOWN custom_failed saying what is wrong', async () => {
    const cases: [string, RegExp][] = [
      ['string', /returned a string/],
      ['null', /returned null/],
      ['array', /returned an array/],
      ['status', /status "GREEN"/],
      ['missing-status', /status undefined/],
      ['output', /output 42, not a string/],
      ['metric-value', /metric latency = "12", not a finite number/],
      ['metric-nan', /metric latency = NaN/],
      ['metric-name', /metric name "bad name!"/],
      ['extra', /unknown field "metric"/],
      ['function', /cannot leave the worker/],
    ];
    for (const [shape, message] of cases) {
      const r = await runOnce('bad-shape', { params: { shape } });
      expect(r, shape).toMatchObject({ status: 'UNKNOWN', reason: 'custom_failed' });
      expect(r.output, shape).toMatch(message);
    }
  });

  it('reports a module that cannot be imported as UNKNOWN custom_failed naming the path', async () => {
    const missing = fixture('does-not-exist');
    const r1 = await attempt(checkOf('does-not-exist'), 5000);
    expect(r1).toMatchObject({ status: 'UNKNOWN', reason: 'custom_failed' });
    expect(r1.output).toContain(`cannot import ${missing}`);

    const r2 = await runOnce('import-throws');
    expect(r2).toMatchObject({ status: 'UNKNOWN', reason: 'custom_failed' });
    expect(r2.output).toContain(fixture('import-throws'));
    expect(r2.output).toContain('missing configuration at import');

    const r3 = await runOnce('no-default');
    expect(r3).toMatchObject({ status: 'UNKNOWN', reason: 'custom_failed' });
    expect(r3.output).toMatch(/no-default\.mjs: .*default export is missing/);
  });

  it('imports the module once and reuses the worker across runs', async () => {
    const runner = checkOf('healthy');
    for (let i = 1; i <= 4; i++) {
      const r = await attempt(runner, 5000);
      expect(r.metrics?.runs).toBe(i);
    }
    expect(kind.liveWorkers()).toBe(1);
  });

  it('shares one pool between checks naming the same module', async () => {
    const a = checkOf('healthy', {}, 5000, 'a');
    const b = checkOf('healthy', {}, 5000, 'b');
    expect((await attempt(a, 5000)).output).toBe('run 1 of svc/i1/a');
    expect((await attempt(b, 5000)).output).toBe('run 2 of svc/i1/b');
    expect(kind.liveWorkers()).toBe(1);
    // Closing one check leaves the pool to the other.
    await a.close?.();
    expect((await attempt(b, 5000)).output).toBe('run 3 of svc/i1/b');
  });

  it('queues runs beyond the pool size and serves them in turn on the same worker', async () => {
    const a = checkOf('slow', { params: { ms: 200 } }, 5000, 'a');
    const b = checkOf('slow', { params: { ms: 200 } }, 5000, 'b');
    const results = await Promise.all([attempt(a, 5000), attempt(b, 5000), attempt(a, 5000)]);
    expect(results.map((r) => r.metrics?.runs).sort()).toEqual([1, 2, 3]);
    for (const r of results) expect(r.status).toBe('HEALTHY');
    expect(kind.liveWorkers()).toBe(1);
  });

  it('runs one call per worker: with workers: 2 two slow runs overlap, and a queued run times out waiting', async () => {
    const a = checkOf('slow', { params: { ms: 800 }, workers: 2 }, 5000, 'a');
    const b = checkOf('slow', { params: { ms: 800 } }, 5000, 'b');
    const [ra, rb] = await Promise.all([attempt(a, 5000), attempt(b, 5000)]);
    // Each the first run of its own worker's module state: they ran side by side.
    expect(ra).toMatchObject({ status: 'HEALTHY', metrics: { runs: 1 } });
    expect(rb).toMatchObject({ status: 'HEALTHY', metrics: { runs: 1 } });
    expect(kind.liveWorkers()).toBe(2);

    // Both workers busy: a third run waits and gives up at its own timeout; the busy ones are not hurt.
    const c = checkOf('slow', { params: { ms: 800 } }, 5000, 'c');
    const busy = [attempt(a, 5000), attempt(b, 5000)];
    const rc = await attempt(c, 150);
    expect(rc).toMatchObject({ status: 'UNHEALTHY', reason: 'timeout' });
    expect(rc.output).toContain('waiting for a free worker');
    for (const r of await Promise.all(busy)) expect(r.status).toBe('HEALTHY');
  });

  it('terminates the worker of a run that ignores the timeout, resolves at once and replaces it lazily', async () => {
    const runner = checkOf('slow', { params: { ms: 300 } });
    expect((await attempt(runner, 5000)).output).toBe('slept 300 ms, run 1');
    const r = await attempt(runner, 100);
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'timeout' });
    expect(r.output).toContain('worker was terminated');
    expect(r.elapsedMs).toBeLessThan(100 + 1000);
    // Terminated, and not replaced until a run needs a worker.
    await waitFor(() => kind.liveWorkers() === 0, 3000, 'the terminated worker to exit');
    // Fresh worker, fresh module state.
    expect((await attempt(runner, 5000)).output).toBe('slept 300 ms, run 1');
    expect(kind.liveWorkers()).toBe(1);
  });

  it('stops an endless loop at the timeout while another check keeps answering', async () => {
    const looping = checkOf('loops', {}, 700);
    const { result, healthy } = await alongsideHealthy(attempt(looping, 700));
    expect(result).toMatchObject({ status: 'UNHEALTHY', reason: 'timeout' });
    expect(result.elapsedMs).toBeLessThan(700 + 1500);
    for (const h of healthy) expect(h.status).toBe('HEALTHY');
    // The next run gets a new worker (and loops again); the terminated threads exit, leaving the healthy one.
    expect((await attempt(looping, 300)).reason).toBe('timeout');
    await waitFor(() => kind.liveWorkers() === 1, 3000, 'the looping workers to exit');
  });

  it('contains process.exit() to its worker: UNKNOWN custom_crashed, others unaffected', async () => {
    const exiting = checkOf('exits');
    const { result, healthy } = await alongsideHealthy(attempt(exiting, 5000));
    expect(result).toMatchObject({ status: 'UNKNOWN', reason: 'custom_crashed' });
    expect(result.output).toContain('exited with code 1');
    for (const h of healthy) expect(h.status).toBe('HEALTHY');
    // Replaced on the next run, which crashes the same way.
    expect((await attempt(exiting, 5000)).reason).toBe('custom_crashed');
  });

  it('reports a worker that runs out of heap as UNKNOWN memory_limit, others unaffected', async () => {
    const hog = checkOf('oom', { memory_limit_mb: 32 }, 20_000);
    const { result, healthy } = await alongsideHealthy(attempt(hog, 20_000));
    expect(result).toMatchObject({ status: 'UNKNOWN', reason: 'memory_limit' });
    expect(result.output).toContain('memory_limit_mb 32');
    for (const h of healthy) expect(h.status).toBe('HEALTHY');
  });

  it('reports an uncaught error outside the call as UNKNOWN custom_crashed', async () => {
    const r = await runOnce('late-throw');
    expect(r).toMatchObject({ status: 'UNKNOWN', reason: 'custom_crashed' });
    expect(r.output).toContain('stray timer blew up');
  });

  it('leaves no worker thread, thread or fd behind after close()', async () => {
    const threads0 = threadCount();
    const fds0 = openFds();
    const ok = checkOf('healthy', { workers: 2 }, 5000, 'ok');
    const slow = checkOf('slow', { params: { ms: 10_000 } }, 5000, 'slow');
    const looping = checkOf('loops', {}, 5000, 'loops');
    expect((await attempt(ok, 5000)).status).toBe('HEALTHY');
    // Runs in flight when their checks close settle as closed.
    const pending = [attempt(slow, 5000), attempt(looping, 5000)];
    await waitFor(() => kind.liveWorkers() === 3 && threadCount() > threads0, 5000, 'the three workers to run');
    expect(threadCount()).toBeGreaterThan(threads0);
    expect(kind.liveWorkers()).toBe(3);
    for (const r of [ok, slow, looping]) await r.close?.();
    for (const r of await Promise.all(pending)) expect(r).toMatchObject({ status: 'UNKNOWN', reason: 'aborted' });
    expect(kind.liveWorkers()).toBe(0);
    expect(await settleThreads(threads0)).toBeLessThanOrEqual(threads0);
    expect(await settleFds(fds0)).toBeLessThanOrEqual(fds0);
    expect(await attempt(ok, 1000)).toMatchObject({ status: 'UNKNOWN', reason: 'aborted', output: 'check closed' });
  });

  it('returns threads and fds to baseline after a series of hostile runs', async () => {
    const threads0 = threadCount();
    const fds0 = openFds();
    for (const [name, timeoutMs] of [
      ['loops', 200],
      ['exits', 5000],
      ['throws', 5000],
      ['late-throw', 5000],
    ] as const) {
      const runner = checkOf(name, {}, timeoutMs);
      await attempt(runner, timeoutMs);
      await runner.close?.();
    }
    expect(kind.liveWorkers()).toBe(0);
    expect(await settleThreads(threads0)).toBeLessThanOrEqual(threads0);
    expect(await settleFds(fds0)).toBeLessThanOrEqual(fds0);
  });

  it('answers timeout without starting anything when the signal is already aborted', async () => {
    const runner = checkOf('healthy');
    const ac = new AbortController();
    ac.abort();
    const { realClock } = await import('../../src/core/clock.js');
    expect(await runner.run({ signal: ac.signal, clock: realClock })).toMatchObject({ reason: 'timeout' });
    expect(kind.liveWorkers()).toBe(0);
  });

  it('waits for a stuck worker to exit for 2 s of the injected clock when its pool closes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'healthmesh-custom-'));
    const fifo = join(dir, 'fifo');
    const started = join(dir, 'started');
    execFileSync('mkfifo', [fifo]);
    const clock = new FakeClock(0);
    const runner = kind(customSpec({ module: fixture('blocks'), params: { fifo, started } }), checkDeps(clock));
    try {
      const run = attempt(runner, 5000);
      await waitFor(() => existsSync(started), 3000, 'the worker to block in open()');
      let closed = false;
      const closing = Promise.resolve(runner.close?.()).then(() => {
        closed = true;
      });
      expect(await run).toMatchObject({ status: 'UNKNOWN', reason: 'aborted' });
      // Terminated, but its thread cannot leave the native call: close() waits, on the injected clock only.
      await new Promise((res) => setTimeout(res, 200));
      expect(closed).toBe(false);
      clock.advance(1999);
      await flushMicrotasks();
      expect(closed).toBe(false);
      clock.advance(1);
      await flushMicrotasks();
      expect(closed).toBe(true);
      await closing;
    } finally {
      // Open the FIFO's write end (non-blocking: no hang if the reader is gone) so the thread can end.
      try {
        closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // No reader left: the worker is gone already.
      }
      await waitFor(() => kind.liveWorkers() === 0, 3000, 'the unblocked worker to exit');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('custom check config', () => {
  it('defaults memory_limit_mb to 64, workers to 1 and params to {}', () => {
    const c = customCheckSchema.parse({ kind: 'custom', module: 'checks/db.mjs' });
    expect(c).toMatchObject({ memory_limit_mb: 64, workers: 1, params: {} });
  });

  it('rejects params that are not JSON, a missing module and a zero pool', () => {
    expect(customCheckSchema.safeParse({ kind: 'custom' }).success).toBe(false);
    expect(customCheckSchema.safeParse({ kind: 'custom', module: 'x.mjs', params: { f: () => 1 } }).success).toBe(false);
    expect(customCheckSchema.safeParse({ kind: 'custom', module: 'x.mjs', workers: 0 }).success).toBe(false);
    expect(customCheckSchema.safeParse({ kind: 'custom', module: 'x.mjs', memory_limit_mb: 1 }).success).toBe(false);
  });
});

describe('inProcessCheck', () => {
  it('validates and maps returns as a module check does', async () => {
    expect(
      await attempt(
        inProcessCheck(() => ({ status: 'pass', metrics: { n: 1 } })),
        1000,
      ),
    ).toMatchObject({
      status: 'HEALTHY',
      reason: 'ok',
      output: 'ok',
      metrics: { n: 1 },
    });
    expect(
      await attempt(
        inProcessCheck(async () => ({ status: 'warn', output: 'hmm' })),
        1000,
      ),
    ).toMatchObject({
      status: 'DEGRADED',
      reason: 'threshold_warning',
      output: 'hmm',
    });
    expect(
      await attempt(
        inProcessCheck(() => ({ status: 'fail' })),
        1000,
      ),
    ).toMatchObject({
      status: 'UNHEALTHY',
      reason: 'threshold_critical',
    });
    const bad = await attempt(
      inProcessCheck(() => ({ status: 'green' }) as never),
      1000,
    );
    expect(bad).toMatchObject({ status: 'UNKNOWN', reason: 'custom_failed' });
    expect(bad.output).toContain('status "green"');
  });

  it('maps a throw, sync or async, to UNHEALTHY custom_failed with the message', async () => {
    const sync = await attempt(
      inProcessCheck(() => {
        throw new Error('sync boom');
      }),
      1000,
    );
    expect(sync).toMatchObject({ status: 'UNHEALTHY', reason: 'custom_failed' });
    expect(sync.output).toContain('sync boom');
    const rejected = await attempt(
      inProcessCheck(() => Promise.reject(new TypeError('async boom'))),
      1000,
    );
    expect(rejected).toMatchObject({ status: 'UNHEALTHY', reason: 'custom_failed' });
    expect(rejected.output).toContain('TypeError: async boom');
  });

  it('resolves timeout at the abort even when the function ignores the signal', async () => {
    let late = false;
    const runner = inProcessCheck(
      () =>
        new Promise((resolve) =>
          setTimeout(() => {
            late = true;
            resolve({ status: 'HEALTHY' });
          }, 400),
        ),
    );
    const r = await attempt(runner, 50);
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'timeout' });
    expect(r.elapsedMs).toBeLessThan(400);
    expect(late).toBe(false);
  });

  it('hands the signal to the function, which can stop on it (slow.mjs in process)', async () => {
    const { default: slow } = (await import(fixture('slow'))) as {
      default: (ctx: { signal: AbortSignal; params: { ms: number } }) => Promise<never>;
    };
    let aborted = false;
    const runner = inProcessCheck(({ signal }) => {
      signal.addEventListener('abort', () => (aborted = true));
      return slow({ signal, params: { ms: 5000 } });
    });
    const r = await attempt(runner, 50);
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'timeout' });
    expect(aborted).toBe(true);
  });

  it('refuses a non-function', () => {
    expect(() => inProcessCheck('nope' as never)).toThrow(TypeError);
  });
});

describe('toOutcome', () => {
  it('keeps output to one line of at most 1024 characters', () => {
    const r = toOutcome({ status: 'HEALTHY', output: `a\nb\r\n${'x'.repeat(5000)}` });
    expect(r.output.startsWith('a b x')).toBe(true);
    expect(r.output.length).toBeLessThanOrEqual(1024);
  });

  it('rejects a value whose getters throw instead of throwing', () => {
    const hostile = {
      get status(): string {
        throw new Error('getter');
      },
    };
    expect(toOutcome(hostile)).toMatchObject({ status: 'UNKNOWN', reason: 'custom_failed' });
  });
});
