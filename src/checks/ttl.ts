import type { CheckDeps, CheckFactory, CheckRunner, CheckSpec, HeartbeatStatus, PushListener, RunContext } from '../core/check.js';
import type { Logger } from '../core/logger.js';
import { outcome, type ProbeOutcome } from '../core/result.js';
import type { TtlCheckConfig } from '../config/kinds/ttl.js';
import { describeError } from './errors.js';

/**
 * TTL check: nothing is probed; the service pushes heartbeats and a run only
 * judges the latest one against the clock, as Consul's TTL checks.
 *
 * The owner routes `PUT /api/v1/checks/:id/ttl` and the library call to
 * `heartbeat()`; each heartbeat is pushed (onPush) and the owner runs the
 * check at once, so a new status shows without waiting for the schedule.
 * Expiry, though, is only noticed by a scheduled run: the interval decides
 * how late an expired heartbeat is reported (up to one interval after the
 * ttl), so keep interval ≤ ttl/2 (the schema's default).
 */

export type { HeartbeatStatus };

/** The latest heartbeat a ttl check received. */
export interface Heartbeat {
  status: HeartbeatStatus;
  /** The note sent with it, cut to at most NOTE_MAX_BYTES bytes of UTF-8. */
  note: string | undefined;
  /** When it was received, epoch ms from the caller's clock. */
  at: number;
}

/** Longest note kept, in bytes of UTF-8 (1 KiB); longer ones are cut and end with "…". */
export const NOTE_MAX_BYTES = 1024;

/**
 * A ttl check's runner: the scheduler runs it, the API and library feed it
 * heartbeats (CheckRunner.heartbeat, whose TypeErrors the HTTP layer maps to
 * 400), and each heartbeat's outcome goes to the onPush listener.
 */
export interface TtlRunner extends CheckRunner {
  heartbeat(status: HeartbeatStatus, note: string | undefined, now: number): void;
  onPush(listener: PushListener): void;
  /** The latest heartbeat, or null before the first one. */
  lastHeartbeat(): Heartbeat | null;
}

/** True when the runner is a ttl check's, i.e. takes heartbeats. */
export function isTtlRunner(runner: CheckRunner): runner is TtlRunner {
  return (
    typeof runner.heartbeat === 'function' && typeof runner.onPush === 'function' && 'lastHeartbeat' in runner && typeof runner.lastHeartbeat === 'function'
  );
}

/**
 * Builds a ttl runner (a CheckFactory whose runners are TtlRunners); it holds
 * only the latest heartbeat, so close() has nothing to release.
 */
export const ttlCheck = ((spec: CheckSpec<TtlCheckConfig>, deps: CheckDeps): TtlRunner =>
  new TtlCheckRunner(spec, deps.logger)) satisfies CheckFactory<TtlCheckConfig>;

const encoder = new TextEncoder();
/** Room for the note's cut part; the rest of NOTE_MAX_BYTES holds the 3-byte "…". */
const noteCut = new Uint8Array(NOTE_MAX_BYTES - 3);

/** The note cut to NOTE_MAX_BYTES bytes of UTF-8 on a character boundary. */
export function truncateNote(note: string): string {
  // A UTF-16 unit takes at most 3 bytes of UTF-8, so short strings need no count.
  if (note.length * 3 <= NOTE_MAX_BYTES || Buffer.byteLength(note) <= NOTE_MAX_BYTES) return note;
  // encodeInto writes whole characters only: `read` ends on a boundary.
  const { read } = encoder.encodeInto(note, noteCut);
  return `${note.slice(0, read)}…`;
}

class TtlCheckRunner implements TtlRunner {
  private last: Heartbeat | null = null;
  private listener: PushListener | null = null;
  /**
   * When the check started counting: its first run or heartbeat, on the time
   * those carry. (Counting from construction on deps.clock would start up to
   * one first-run delay earlier; left as it was, behaviour unchanged.)
   */
  private startedAt: number | undefined;
  private readonly id: string;
  private readonly ttlMs: number;
  private readonly initial: ProbeOutcome;
  private readonly ttlText: string;

  constructor(
    spec: CheckSpec<TtlCheckConfig>,
    private readonly logger: Logger | undefined,
  ) {
    const { ttl: ttlMs, initial_status: initialStatus } = spec.config;
    this.id = spec.id;
    this.ttlMs = ttlMs;
    this.ttlText = formatAge(ttlMs);
    const text = `no heartbeat yet (initial_status ${initialStatus}, ttl ${this.ttlText})`;
    this.initial =
      initialStatus === 'HEALTHY'
        ? outcome.healthy(text)
        : initialStatus === 'UNHEALTHY'
          ? outcome.unhealthy('ttl_expired', text)
          : outcome.unknown('ttl_expired', text);
  }

  heartbeat(status: HeartbeatStatus, note: string | undefined, now: number): void {
    if (status !== 'pass' && status !== 'warn' && status !== 'fail') {
      throw new TypeError(`heartbeat status must be "pass", "warn" or "fail", got ${describe(status)}`);
    }
    if (note !== undefined && note !== null && typeof note !== 'string') {
      throw new TypeError(`heartbeat note must be a string, got ${describe(note)}`);
    }
    if (typeof now !== 'number' || !Number.isFinite(now)) {
      throw new TypeError(`heartbeat time must be a finite number of epoch ms, got ${describe(now)}`);
    }
    this.startedAt ??= now;
    this.last = { status, note: typeof note === 'string' ? truncateNote(note) : undefined, at: now };
    const listener = this.listener;
    if (listener === null) return;
    try {
      listener(this.judge(now));
    } catch (err) {
      // The heartbeat is recorded: the caller's call succeeded whatever the owner's listener does.
      this.logger?.error({ check: this.id, err: describeError(err) }, 'ttl push listener threw');
    }
  }

  onPush(listener: PushListener): void {
    this.listener = listener;
  }

  lastHeartbeat(): Heartbeat | null {
    return this.last;
  }

  run(ctx: RunContext): Promise<ProbeOutcome> {
    if (ctx.signal.aborted) return Promise.resolve(outcome.unhealthy('timeout', 'aborted before start'));
    return Promise.resolve(this.judge(ctx.clock.now()));
  }

  private judge(now: number): ProbeOutcome {
    const hb = this.last;
    if (hb === null) {
      this.startedAt ??= now;
      const since = now - this.startedAt;
      if (since < this.ttlMs) return this.initial;
      return outcome.unhealthy('ttl_expired', `no heartbeat since start ${formatAge(since)} ago (ttl ${this.ttlText})`);
    }
    // A heartbeat stamped ahead of the run's clock counts as fresh.
    const age = Math.max(0, now - hb.at);
    const metrics = { heartbeat_age_ms: age };
    // Valid for exactly ttl: at age === ttl it has expired.
    if (age >= this.ttlMs) {
      return outcome.unhealthy('ttl_expired', `last heartbeat (${hb.status}) ${formatAge(age)} ago, over ttl ${this.ttlText}`, metrics);
    }
    const text = hb.note !== undefined && hb.note !== '' ? oneLine(hb.note) : `${hb.status} heartbeat ${formatAge(age)} ago`;
    if (hb.status === 'pass') return outcome.healthy(text, metrics);
    if (hb.status === 'warn') return outcome.degraded('ttl_warn', text, metrics);
    return outcome.unhealthy('ttl_fail', text, metrics);
  }

  close(): void {}
}

function oneLine(s: string): string {
  return s.includes('\n') || s.includes('\r') ? s.replace(/\s*[\r\n]+\s*/g, ' ').trim() : s;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
  if (value === null) return 'null';
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object';
  const text = `${typeof value} ${String(value)}`;
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** `850 ms`, `12.5 s`, `3 min 20 s`, `2 h 5 min`. */
function formatAge(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Math.round(ms / 100) / 10} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.floor((ms % 60_000) / 1000)} s`;
  return `${Math.floor(ms / 3_600_000)} h ${Math.floor((ms % 3_600_000) / 60_000)} min`;
}
