import { isAbsolute, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CheckFactory, CheckRunner, RunContext } from '../core/check.js';
import type { Clock } from '../core/clock.js';
import { outcome, type ProbeOutcome } from '../core/result.js';
import type { HealthStatus } from '../core/status.js';
import type { CustomCheckConfig } from '../config/kinds/custom.js';
import { WorkerPools, type CustomCheckIdentity, type PoolJob, type PoolLease, type RunPayload, type WorkerReply } from './worker-pool.js';
import { formatMs } from './probe-support.js';

/**
 * Custom checks: the user's own code decides the status.
 *
 * From the config, the code is an ES module run in worker threads
 * (worker-pool.ts), so the daemon survives whatever it does: a throw gives
 * UNHEALTHY `custom_failed`, a module that cannot be imported or returns a
 * bad shape UNKNOWN `custom_failed`, process.exit() UNKNOWN `custom_crashed`
 * (only its worker ends), an endless loop `timeout` (its worker is
 * terminated at the attempt timeout), running out of heap UNKNOWN
 * `memory_limit`. Other checks, the same module's included, go on.
 *
 * From the library, `inProcessCheck(fn)` wraps a function that runs in the
 * main thread: same validation and mapping, but it cannot be stopped.
 *
 * A module's status maps to reasons as: HEALTHY/pass → ok, DEGRADED/warn →
 * threshold_warning, UNHEALTHY/fail → threshold_critical, UNKNOWN →
 * custom_failed.
 */

/** A status a custom check may return: a HealthStatus or Consul/Nagios-style pass/warn/fail. */
export type CustomCheckStatus = HealthStatus | 'pass' | 'warn' | 'fail';

/** What a custom check function returns (or resolves to). */
export interface CustomCheckReturn {
  status: CustomCheckStatus;
  /** One line for humans; cut to 1024 characters, line breaks become spaces. */
  output?: string;
  /** Finite numbers by name (letters, digits, _ . : -; at most 64 of them). */
  metrics?: Record<string, number>;
}

/** A JSON value, as found in `params`. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** What a module's default export receives. */
export interface CustomCheckContext {
  /**
   * For code shared with inProcessCheck. In a worker it never fires: a run
   * past its timeout is stopped by terminating the worker, so cleanup code
   * (finally blocks, abort listeners) does not run there.
   */
  signal: AbortSignal;
  check: CustomCheckIdentity;
  /** The check's `params`, a fresh copy for each run. */
  params: Record<string, JsonValue>;
}

/** The default export of a custom check module. */
export type CustomCheckFunction = (ctx: CustomCheckContext) => Promise<CustomCheckReturn> | CustomCheckReturn;

/** The custom check factory, with a view of the worker threads it keeps. */
export interface CustomCheckKind extends CheckFactory<CustomCheckConfig> {
  /** Worker threads alive (idle, busy or still exiting) across this factory's pools. */
  liveWorkers(): number;
}

/**
 * A custom check factory with its own pools: checks it builds that name the
 * same module and memory limit share one pool. Pools exist only while some
 * check holds them, so the factory needs no closing of its own.
 */
export function createCustomCheckKind(pools: WorkerPools = new WorkerPools()): CustomCheckKind {
  const factory: CheckFactory<CustomCheckConfig> = (spec, deps) => {
    const c = spec.config;
    const modulePath = resolveModulePath(c.module);
    const lease = pools.acquire(modulePath, c.memory_limit_mb, c.workers, deps.clock);
    const payload: RunPayload = {
      check: { id: spec.id, service: spec.service, instance: spec.instance, address: spec.address },
      params: c.params,
    };
    return new WorkerCustomRunner(lease, payload, modulePath, c.memory_limit_mb);
  };
  return Object.assign(factory, { liveWorkers: () => pools.liveThreads() });
}

/** Builds a custom check runner on the shared default pools; close() releases the check's hold on its pool. */
export const customCheck: CustomCheckKind = createCustomCheckKind();

/**
 * The absolute path of a check's module: absolute paths and file: URLs as
 * given, relative paths against process.cwd() (the config gives no directory
 * to resolve against).
 */
export function resolveModulePath(module: string): string {
  if (module.startsWith('file:')) return fileURLToPath(module);
  return isAbsolute(module) ? module : resolvePath(process.cwd(), module);
}

class WorkerCustomRunner implements CheckRunner {
  private readonly inflight = new Set<PoolJob>();
  private closed = false;

  constructor(
    private readonly lease: PoolLease,
    private readonly payload: RunPayload,
    private readonly modulePath: string,
    private readonly memoryLimitMb: number,
  ) {}

  run(ctx: RunContext): Promise<ProbeOutcome> {
    if (this.closed) return Promise.resolve(CHECK_CLOSED);
    const signal = ctx.signal;
    if (signal.aborted) return Promise.resolve(ABORTED_BEFORE_START);
    const clock = ctx.clock;
    const t0 = clock.now();
    return this.lease.pool.call(this.payload, signal, this.inflight).then((reply) => this.judge(reply, clock, t0));
  }

  private judge(reply: WorkerReply, clock: Clock, t0: number): ProbeOutcome {
    switch (reply.kind) {
      case 'ok':
        return toOutcome(reply.value);
      case 'threw':
        return outcome.unhealthy('custom_failed', clip(`check threw: ${reply.message}`));
      case 'import':
        return outcome.unknown('custom_failed', clip(`cannot import ${this.modulePath}: ${reply.message}`));
      case 'clone':
        return outcome.unknown('custom_failed', clip(`returned a value that cannot leave the worker: ${reply.message}`));
      case 'memory_limit':
        return outcome.unknown('memory_limit', `worker ran out of memory (memory_limit_mb ${this.memoryLimitMb}); it was replaced`);
      case 'crashed':
        return outcome.unknown('custom_crashed', clip(reply.message));
      case 'spawn_failed':
        return outcome.unknown('custom_crashed', clip(`cannot start a worker: ${reply.message}`));
      case 'aborted': {
        const took = formatMs(clock.now() - t0);
        return outcome.unhealthy(
          'timeout',
          reply.phase === 'running' ? `timed out after ${took}; its worker was terminated` : `timed out after ${took} ${reply.phase}`,
        );
      }
      case 'closed':
        return CHECK_CLOSED;
    }
  }

  /** Stop this check's runs (terminating their workers) and release its hold on the pool. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const job of [...this.inflight]) job.cancel();
    await this.lease.release();
  }
}

const CHECK_CLOSED = outcome.unknown('aborted', 'check closed');
const ABORTED_BEFORE_START = outcome.unhealthy('timeout', 'aborted before start');

/**
 * A custom check running `fn` in this thread, for library users. Its result
 * is validated and mapped as a module's (a throw → UNHEALTHY custom_failed).
 *
 * At the signal's abort the run resolves `timeout` at once and whatever fn
 * settles with later is ignored; fn should honour ctx.signal to stop its own
 * work. A function that blocks the event loop (a synchronous endless loop)
 * cannot be stopped at all and freezes the whole process: code that might do
 * so belongs in a module run by a `custom` check, in a worker thread.
 */
export function inProcessCheck(fn: (ctx: { signal: AbortSignal }) => Promise<CustomCheckReturn> | CustomCheckReturn): CheckRunner {
  if (typeof fn !== 'function') throw new TypeError('inProcessCheck needs a function');
  return new InProcessRunner(fn);
}

type InProcessFn = (ctx: { signal: AbortSignal }) => unknown;

class InProcessRunner implements CheckRunner {
  constructor(private readonly fn: InProcessFn) {}

  run(ctx: RunContext): Promise<ProbeOutcome> {
    const signal = ctx.signal;
    if (signal.aborted) return Promise.resolve(ABORTED_BEFORE_START);
    return new Promise<ProbeOutcome>((resolve) => {
      new InProcessCall(this.fn, signal, ctx.clock, resolve).start();
    });
  }

  close(): void {}
}

/** One in-process run; also its signal's abort listener. Settles once. */
class InProcessCall {
  private done = false;
  private readonly t0: number;

  constructor(
    private readonly fn: InProcessFn,
    private readonly signal: AbortSignal,
    private readonly clock: Clock,
    private readonly resolve: (o: ProbeOutcome) => void,
  ) {
    this.t0 = clock.now();
  }

  start(): void {
    this.signal.addEventListener('abort', this);
    let result: unknown;
    try {
      result = this.fn({ signal: this.signal });
    } catch (err) {
      this.threw(err);
      return;
    }
    Promise.resolve(result).then(
      (value) => this.finish(toOutcome(value)),
      (err: unknown) => this.threw(err),
    );
  }

  /** AbortSignal listener: the attempt timed out. */
  handleEvent(): void {
    this.finish(outcome.unhealthy('timeout', `timed out after ${formatMs(this.clock.now() - this.t0)}`));
  }

  private threw(err: unknown): void {
    this.finish(outcome.unhealthy('custom_failed', clip(`check threw: ${errorText(err)}`)));
  }

  private finish(result: ProbeOutcome): void {
    if (this.done) return;
    this.done = true;
    this.signal.removeEventListener('abort', this);
    this.resolve(result);
  }
}

const STATUSES: ReadonlyMap<string, HealthStatus> = new Map<string, HealthStatus>([
  ['HEALTHY', 'HEALTHY'],
  ['DEGRADED', 'DEGRADED'],
  ['UNHEALTHY', 'UNHEALTHY'],
  ['UNKNOWN', 'UNKNOWN'],
  ['pass', 'HEALTHY'],
  ['warn', 'DEGRADED'],
  ['fail', 'UNHEALTHY'],
]);

const RETURN_FIELDS = new Set(['status', 'output', 'metrics']);
/** Most metrics one result may carry. */
const MAX_METRICS = 64;
const METRIC_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,99}$/;
/** Longest output kept, in characters. */
const MAX_OUTPUT = 1024;

/**
 * Validates what a custom check returned and maps it to a ProbeOutcome. A
 * value of the wrong shape gives UNKNOWN custom_failed saying what is wrong.
 */
export function toOutcome(value: unknown): ProbeOutcome {
  try {
    return judgeReturn(value);
  } catch (err) {
    // A getter or Proxy of the user's that throws while being read.
    return badShape(`returned a value that cannot be read: ${errorText(err)}`);
  }
}

function judgeReturn(value: unknown): ProbeOutcome {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return badShape(`returned ${kindOf(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (!RETURN_FIELDS.has(key)) return badShape(`returned an unknown field ${JSON.stringify(clipShort(key))}`);
  }
  const v = value as Record<string, unknown>;
  const status = typeof v.status === 'string' ? STATUSES.get(v.status) : undefined;
  if (status === undefined) {
    return badShape(`returned status ${describeValue(v.status)} (use HEALTHY, DEGRADED, UNHEALTHY, UNKNOWN, pass, warn or fail)`);
  }
  const out = v.output;
  if (out !== undefined && typeof out !== 'string') return badShape(`returned output ${describeValue(out)}, not a string`);
  let metrics: Record<string, number> | undefined;
  if (v.metrics !== undefined) {
    const m = v.metrics;
    if (typeof m !== 'object' || m === null || Array.isArray(m)) return badShape(`returned metrics ${kindOf(m)}, not an object`);
    const entries = Object.entries(m);
    if (entries.length > MAX_METRICS) return badShape(`returned ${entries.length} metrics (at most ${MAX_METRICS})`);
    metrics = {};
    for (const [name, n] of entries) {
      if (!METRIC_NAME.test(name)) {
        return badShape(`returned metric name ${JSON.stringify(clipShort(name))} (use letters, digits, _ . : -)`);
      }
      if (typeof n !== 'number' || !Number.isFinite(n)) {
        return badShape(`returned metric ${name} = ${describeValue(n)}, not a finite number`);
      }
      metrics[name] = n;
    }
    if (entries.length === 0) metrics = undefined;
  }
  const text = out !== undefined && out !== '' ? clip(out) : undefined;
  switch (status) {
    case 'HEALTHY':
      return outcome.healthy(text ?? 'ok', metrics);
    case 'DEGRADED':
      return outcome.degraded('threshold_warning', text ?? 'check reported DEGRADED', metrics);
    case 'UNHEALTHY':
      return outcome.unhealthy('threshold_critical', text ?? 'check reported UNHEALTHY', metrics);
    default:
      // outcome.unknown takes no metrics; a check that cannot tell may still have measured something.
      return { status: 'UNKNOWN', reason: 'custom_failed', output: text ?? 'check reported UNKNOWN', metrics };
  }
}

const EXPECTED_SHAPE = 'expected { status, output?, metrics? }';

function badShape(what: string): ProbeOutcome {
  return outcome.unknown('custom_failed', clip(`bad result: ${what}; ${EXPECTED_SHAPE}`));
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(clipShort(value));
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return kindOf(value);
}

function errorText(err: unknown): string {
  try {
    if (err instanceof Error) return err.name === 'Error' ? err.message : `${err.name}: ${err.message}`;
    return String(err);
  } catch {
    return 'an error that cannot be printed';
  }
}

/** One line of at most MAX_OUTPUT characters. */
function clip(s: string): string {
  const line = s.includes('\n') || s.includes('\r') ? s.replace(/\s*[\r\n]+\s*/g, ' ') : s;
  return line.length > MAX_OUTPUT ? `${line.slice(0, MAX_OUTPUT - 3)}...` : line;
}

function clipShort(s: string): string {
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}
