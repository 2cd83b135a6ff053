import type { Clock } from '../core/clock.js';
import type { Backoff } from './backoff.js';
import type { CallOutcome, TripStrategy } from './trip.js';

/** Shared outcome records for the trip strategy (it only reads them): none allocated per call. */
const OK: CallOutcome = Object.freeze({ ok: true });
const FAILED: CallOutcome = Object.freeze({ ok: false });

/** Fields every breaker state carries. */
interface BreakerCommon {
  /** Times the breaker has opened since it was created (never decreases). */
  readonly opens: number;
  /** Trips in a row that feed the backoff; back to 0 after a success streak while closed. */
  readonly level: number;
  /** Epoch ms at which this state was entered. */
  readonly since: number;
}

/** Calls flow; the trip strategy watches outcomes. */
export interface ClosedState extends BreakerCommon {
  readonly kind: 'closed';
  /** Successes in a row since the last failure (drives the backoff reset). */
  readonly successStreak: number;
}

/** Calls are refused until `reopensAt`. */
export interface OpenState extends BreakerCommon {
  readonly kind: 'open';
  /** Epoch ms after which the breaker goes half-open. */
  readonly reopensAt: number;
}

/** A limited number of trial calls are let through. */
export interface HalfOpenState extends BreakerCommon {
  readonly kind: 'half-open';
  /** Trial calls admitted so far (≤ halfOpenMaxTrials). */
  readonly trialsAdmitted: number;
  /** Trial calls reported successful so far. */
  readonly trialSuccesses: number;
}

/** Breaker state as data (cockatiel-style discriminated union). */
export type BreakerState = ClosedState | OpenState | HalfOpenState;

/** What happened to the breaker, fed to {@link next}. */
export type BreakerEvent =
  /** Time passed; may move open → half-open. */
  | { readonly type: 'tick'; readonly now: number }
  /** A caller asks to send a call; in half-open this takes a trial slot if one is free. */
  | { readonly type: 'acquire'; readonly now: number }
  /** An admitted call ended without an outcome (the client went away); in half-open its trial slot is freed. */
  | { readonly type: 'release'; readonly now: number }
  | { readonly type: 'success'; readonly now: number }
  /** `tripped`: the trip strategy's verdict after recording this failure (only read while closed). */
  | { readonly type: 'failure'; readonly now: number; readonly tripped: boolean };

/** Fixed parts of the machine. */
export interface BreakerMachineConfig {
  /** Trial calls admitted in half-open; all of them must succeed to close (integer ≥ 1). */
  readonly halfOpenMaxTrials: number;
  readonly backoff: Backoff;
}

/** Result of {@link next}: Envoy-style Unchanged / Changed. */
export interface BreakerStep {
  readonly state: BreakerState;
  /** Set when `state.kind` differs from the input's. */
  readonly changed: boolean;
  /** For 'acquire': whether the call may go. Otherwise undefined. */
  readonly admitted?: boolean;
}

/** Initial state of a breaker created at `now`. */
export function initialBreakerState(now: number): ClosedState {
  return { kind: 'closed', opens: 0, level: 0, since: now, successStreak: 0 };
}

/** Closed at level 0 with its success streak past the reset: a success changes nothing (the common case). */
function steady(s: BreakerState, cfg: BreakerMachineConfig): boolean {
  return s.kind === 'closed' && s.level === 0 && s.successStreak >= cfg.backoff.resetAfterSuccesses;
}

function open(from: BreakerState, now: number, cfg: BreakerMachineConfig): OpenState {
  const level = from.level + 1;
  return { kind: 'open', opens: from.opens + 1, level, since: now, reopensAt: now + cfg.backoff.durationMs(level) };
}

/**
 * Pure transition function of the breaker: no clock, no callbacks. (It is as
 * pure as `cfg.backoff.durationMs`, which may draw jitter from an injected
 * Random.)
 *
 * - closed: failure with `tripped` → open (level + 1); a success streak of
 *   `backoff.resetAfterSuccesses` brings the level back to 0 (past that, with
 *   the level at 0, a success changes nothing: the streak stops counting).
 * - open: at `now ≥ reopensAt` any event first moves it to half-open; results
 *   arriving while open (late calls) are ignored.
 * - half-open: `acquire` admits up to `halfOpenMaxTrials` calls; once that
 *   many successes are in → closed; any failure → open with level + 1, so the
 *   backoff grows; `release` frees the slot of a trial that ended without an
 *   outcome, so an abandoned trial cannot hold the breaker half-open for ever.
 */
export function next(state: BreakerState, event: BreakerEvent, cfg: BreakerMachineConfig): BreakerStep {
  let s: BreakerState = state;
  if (s.kind === 'open' && event.now >= s.reopensAt) {
    s = { kind: 'half-open', opens: s.opens, level: s.level, since: s.reopensAt, trialsAdmitted: 0, trialSuccesses: 0 };
  }
  const done = (to: BreakerState, admitted?: boolean): BreakerStep => ({
    state: to,
    changed: to.kind !== state.kind,
    ...(admitted === undefined ? {} : { admitted }),
  });

  switch (event.type) {
    case 'tick':
      return done(s);
    case 'release':
      if (s.kind !== 'half-open' || s.trialsAdmitted === 0) return done(s);
      return done({ ...s, trialsAdmitted: s.trialsAdmitted - 1 });
    case 'acquire':
      if (s.kind === 'closed') return done(s, true);
      if (s.kind === 'open') return done(s, false);
      if (s.trialsAdmitted >= cfg.halfOpenMaxTrials) return done(s, false);
      return done({ ...s, trialsAdmitted: s.trialsAdmitted + 1 }, true);
    case 'success':
      if (s.kind === 'closed') {
        if (steady(s, cfg)) return done(s);
        const streak = s.successStreak + 1;
        const reset = streak >= cfg.backoff.resetAfterSuccesses;
        return done({ ...s, successStreak: streak, level: reset ? 0 : s.level });
      }
      if (s.kind === 'open') return done(s);
      {
        const successes = s.trialSuccesses + 1;
        if (successes >= cfg.halfOpenMaxTrials) {
          return done({ kind: 'closed', opens: s.opens, level: s.level, since: event.now, successStreak: successes });
        }
        return done({ ...s, trialSuccesses: successes });
      }
    case 'failure':
      if (s.kind === 'closed') {
        return done(event.tripped ? open(s, event.now, cfg) : { ...s, successStreak: 0 });
      }
      if (s.kind === 'open') return done(s);
      return done(open(s, event.now, cfg));
  }
}

/** A state change as delivered to `onStateChange`. */
export interface BreakerTransition {
  readonly from: BreakerState;
  readonly to: BreakerState;
  /** Epoch ms of the change. */
  readonly at: number;
  /** Trip strategy figures at the moment of a closed → open change. */
  readonly figures?: Record<string, number>;
}

/** Options of {@link CircuitBreaker}. */
export interface CircuitBreakerOptions {
  clock: Clock;
  /** When a closed breaker opens. */
  trip: TripStrategy;
  /** How long it stays open. */
  backoff: Backoff;
  /** Trial calls let through in half-open; all must succeed to close (integer ≥ 1). */
  halfOpenMaxTrials: number;
  /** Calls slower than this (ms) count as failures even when ok. Default: no limit. */
  slowCallMs?: number;
  onStateChange?: (change: BreakerTransition) => void;
}

/** Outcome of one call through the breaker. */
export interface CallReport {
  ok: boolean;
  /** Call duration in ms. */
  latencyMs: number;
}

/**
 * Per-instance circuit breaker: glue between the pure {@link next}, a
 * {@link TripStrategy}, a {@link Backoff} and a clock.
 *
 * No timer is armed: open → half-open happens on the first `allow()`,
 * `tryAcquire()`, `report()` or `state` read at or after `reopensAt`, and
 * `onStateChange` fires then.
 */
export class CircuitBreaker {
  /** Called on every change of `state.kind`. May be replaced after construction. */
  onStateChange: ((change: BreakerTransition) => void) | undefined;
  private current: BreakerState;
  private readonly clock: Clock;
  private readonly trip: TripStrategy;
  private readonly cfg: BreakerMachineConfig;
  private readonly slowCallMs: number;

  constructor(opts: CircuitBreakerOptions) {
    if (!Number.isInteger(opts.halfOpenMaxTrials) || opts.halfOpenMaxTrials < 1) {
      throw new RangeError(`halfOpenMaxTrials: ${opts.halfOpenMaxTrials} is not an integer ≥ 1`);
    }
    this.clock = opts.clock;
    this.trip = opts.trip;
    this.cfg = { halfOpenMaxTrials: opts.halfOpenMaxTrials, backoff: opts.backoff };
    this.slowCallMs = opts.slowCallMs ?? Infinity;
    this.onStateChange = opts.onStateChange;
    this.current = initialBreakerState(this.clock.now());
  }

  /** Current state (read-only data), after applying the passage of time. */
  get state(): BreakerState {
    this.apply({ type: 'tick', now: this.clock.now() });
    return this.current;
  }

  /**
   * May a call go now? True when closed; false when open; in half-open true
   * for at most `halfOpenMaxTrials` calls, each true taking a trial slot, so
   * call it exactly once per call you intend to send.
   */
  allow(): boolean {
    return this.tryAcquire();
  }

  /** Same as {@link allow}; the name says that a half-open trial slot is taken. */
  tryAcquire(): boolean {
    // Closed admits every call and no time-driven change applies to it (only open → half-open is): no event, no step.
    if (this.current.kind === 'closed') return true;
    return this.apply({ type: 'acquire', now: this.clock.now() }).admitted === true;
  }

  /** A call that `allow()` let through ended without an outcome worth judging: frees its half-open trial slot. */
  release(): void {
    this.apply({ type: 'release', now: this.clock.now() });
  }

  /** Report the outcome of a call that `allow()` let through. */
  report(r: CallReport): void {
    const ok = r.ok && r.latencyMs <= this.slowCallMs;
    const cur = this.current;
    if (ok && steady(cur, this.cfg)) {
      // The steady state, most calls: next() would leave the state as it is; only the trip strategy's window moves.
      this.trip.record(OK);
      return;
    }
    const now = this.clock.now();
    let tripped = false;
    if (cur.kind !== 'closed') this.apply({ type: 'tick', now });
    if (this.current.kind === 'closed') {
      this.trip.record(ok ? OK : FAILED);
      tripped = this.trip.shouldTrip();
    }
    this.apply(ok ? { type: 'success', now } : { type: 'failure', now, tripped });
  }

  private apply(event: BreakerEvent): BreakerStep {
    const from = this.current;
    const figures = from.kind === 'closed' && event.type === 'failure' && event.tripped ? this.trip.figures() : undefined;
    const step = next(from, event, this.cfg);
    this.current = step.state;
    if (step.changed || from.kind !== step.state.kind) {
      // A fresh window for every closed period; the strategy's counts are stale after an open.
      if (step.state.kind === 'open' || step.state.kind === 'closed') this.trip.reset();
      this.onStateChange?.({ from, to: step.state, at: event.now, ...(figures ? { figures } : {}) });
    }
    return step;
  }
}
