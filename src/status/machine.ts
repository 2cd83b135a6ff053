/**
 * Per-check status state machine: rise/fall thresholds (Envoy's
 * healthy_threshold / unhealthy_threshold) and flap detection (Nagios'
 * percent state change). Pure functions over plain data: no I/O, no clock
 * reads; time comes from `CheckResult.observedAt`.
 */
import type { FlapSettings } from '../core/check.js';
import type { CheckResult } from '../core/result.js';
import { severity, type HealthStatus } from '../core/status.js';

/**
 * Outcome of one step, as Envoy's health checker reports it:
 * `unchanged` (status kept, no pending change), `changed` (status switched on
 * this result), `pending` (status kept, a change is counting toward its
 * threshold).
 */
export type Transition = 'unchanged' | 'changed' | 'pending';

/** Direction of a pending change relative to the current status, by severity(). */
export type PendingDirection = 'worse' | 'better';

/** A change counting toward its threshold (`fall` when worse, `rise` when better). */
export interface Pending {
  direction: PendingDirection;
  /** Consecutive results so far in this direction (≥ 1). */
  count: number;
}

/**
 * Flap detection history, as plain data. The history is a bitmask of
 * "this raw result differed from the previous one", newest change in bit 0 of
 * `changesLo`, ages 32..62 in `changesHi`; two 32-bit words cover the largest
 * window (MAX_FLAP_WINDOW results = 63 changes) without allocating per result.
 */
export interface FlapState {
  /** Status of the previous raw result; null before the first result. */
  last: HealthStatus | null;
  /** Change bits for ages 0..31 (bit 0 = change made by the newest result). */
  changesLo: number;
  /** Change bits for ages 32..62. */
  changesHi: number;
  /** Results recorded so far, capped at the window size (for display: "5 of 21"). */
  samples: number;
  /** Weighted share of changes over the window, 0..1, as of the newest result. */
  share: number;
}

/** Everything the machine remembers about one check. Plain, serialisable data. */
export interface CheckState {
  /** Current (thresholded) status. */
  status: HealthStatus;
  /** When `status` last changed, epoch milliseconds (initialState's `now` until the first change). */
  since: number;
  /** A change counting toward its threshold, or null when none is pending. */
  pending: Pending | null;
  /** The newest raw result; null before the first. */
  lastResult: CheckResult | null;
  /** Raw results in a row that were not HEALTHY (DEGRADED, UNKNOWN and UNHEALTHY all count). */
  consecutiveFailures: number;
  /** Raw HEALTHY results in a row. */
  consecutiveSuccesses: number;
  /** Flap detection history. */
  flap: FlapState;
  /** Whether the check is flapping (share went ≥ high and has not yet gone < low). */
  flapping: boolean;
  /**
   * True in the state produced by a `changed` step, false after the next step
   * unless it changes again. The scheduler uses the edge interval while this
   * is true or `pending` is set.
   */
  justChanged: boolean;
}

/** Thresholds `next` applies; a subset of CheckTiming. */
export interface MachineSettings {
  /** Consecutive better results needed to move to a better status (values < 1 act as 1). */
  rise: number;
  /** Consecutive worse results needed to move to a worse status (values < 1 act as 1). */
  fall: number;
  flap: FlapSettings;
}

/** What one step of the machine returns. */
export interface Step {
  /** The new state; the input state is never modified. */
  state: CheckState;
  transition: Transition;
  /** Status before this step (equals `state.status` unless `transition` is 'changed'). */
  from: HealthStatus;
}

/** Largest flap window (in results) the two-word change history can hold. */
export const MAX_FLAP_WINDOW = 64;
/** Smallest flap window (in results): one change. */
export const MIN_FLAP_WINDOW = 2;

/**
 * Weight of the oldest and newest change in the window. Nagios' flapping.c
 * (check_for_service_flapping, all versions from 2.x to 4.x) uses 0.75 and
 * 1.25; the weights rise linearly in between and average exactly 1, so a
 * history where every result differs from the previous one scores 1.0.
 */
export const FLAP_WEIGHT_OLDEST = 0.75;
/** See FLAP_WEIGHT_OLDEST. */
export const FLAP_WEIGHT_NEWEST = 1.25;

/**
 * State of a check that has not produced a result yet: UNKNOWN, nothing
 * pending, empty flap history.
 *
 * @param now epoch milliseconds, stored as `since`.
 */
export function initialState(now: number): CheckState {
  return {
    status: 'UNKNOWN',
    since: now,
    pending: null,
    lastResult: null,
    consecutiveFailures: 0,
    consecutiveSuccesses: 0,
    flap: { last: null, changesLo: 0, changesHi: 0, samples: 0, share: 0 },
    flapping: false,
    justChanged: false,
  };
}

/**
 * Feed one raw result to the machine.
 *
 * - The very first result (`lastResult` is null) sets the status at once
 *   ('changed'; 'unchanged' if that result is itself UNKNOWN).
 * - A result with the current status clears any pending count ('unchanged').
 * - A worse result (by severity()) counts toward `fall`, a better one toward
 *   `rise`. Switching direction restarts the count at 1. When the count
 *   reaches its threshold the status becomes the latest result's status
 *   ('changed'); before that it is 'pending'.
 * - Flap detection sees every raw result, whatever the thresholds do.
 *
 * @throws RangeError when `t.flap.window` is outside MIN_FLAP_WINDOW..MAX_FLAP_WINDOW
 *   or not an integer (a programming error: the config schema bounds it).
 */
export function next(state: CheckState, result: CheckResult, t: MachineSettings): Step {
  const from = state.status;
  const flap = nextFlap(state.flap, result.status, t.flap.window);
  const flapping = flap.share >= t.flap.high ? true : flap.share < t.flap.low ? false : state.flapping;
  const success = result.status === 'HEALTHY';
  const consecutiveSuccesses = success ? state.consecutiveSuccesses + 1 : 0;
  const consecutiveFailures = success ? 0 : state.consecutiveFailures + 1;

  let status = from;
  let pending: Pending | null = null;
  let transition: Transition;

  if (state.lastResult === null) {
    status = result.status;
    transition = status === from ? 'unchanged' : 'changed';
  } else {
    const delta = severity(result.status) - severity(from);
    if (delta === 0) {
      transition = 'unchanged';
    } else {
      const direction: PendingDirection = delta > 0 ? 'worse' : 'better';
      const count = state.pending !== null && state.pending.direction === direction ? state.pending.count + 1 : 1;
      const threshold = direction === 'worse' ? t.fall : t.rise;
      if (count >= threshold) {
        status = result.status;
        transition = 'changed';
      } else {
        pending = { direction, count };
        transition = 'pending';
      }
    }
  }

  const changed = transition === 'changed';
  return {
    state: {
      status,
      since: changed ? result.observedAt : state.since,
      pending,
      lastResult: result,
      consecutiveFailures,
      consecutiveSuccesses,
      flap,
      flapping,
      justChanged: changed,
    },
    transition,
    from,
  };
}

/**
 * Weighted share of result-to-result changes over the flap window, 0..1
 * (multiply by 100 for Nagios' "percent state change"). O(1): the value is
 * computed once per result in `next`.
 */
export function flapShare(state: CheckState): number {
  return state.flap.share;
}

/**
 * Push one raw status into the flap history and recompute the share.
 *
 * Like Nagios, the share is evaluated from the first result on, with the
 * slots not yet filled counting as "no change" and the sum always divided by
 * the full window's change count. A young check therefore cannot look
 * flapping on two or three samples (one change out of one would be 100 %);
 * with the defaults (window 21, high 0.2) five alternating results suffice.
 */
function nextFlap(prev: FlapState, status: HealthStatus, window: number): FlapState {
  if (!Number.isInteger(window) || window < MIN_FLAP_WINDOW || window > MAX_FLAP_WINDOW) {
    throw new RangeError(`flap window must be an integer ${MIN_FLAP_WINDOW}..${MAX_FLAP_WINDOW}, got ${window}`);
  }
  const slots = window - 1;
  const bit = prev.last !== null && prev.last !== status ? 1 : 0;
  // Shift the two words left by one as a 64-bit value, then drop ages ≥ slots
  // so that a window shrunk by a config reload forgets the excess at once.
  let hi = ((prev.changesHi << 1) | (prev.changesLo >>> 31)) >>> 0;
  let lo = ((prev.changesLo << 1) | bit) >>> 0;
  if (slots <= 32) {
    hi = 0;
    if (slots < 32) lo = (lo & ((1 << slots) - 1)) >>> 0;
  } else if (slots - 32 < 32) {
    hi = (hi & ((1 << (slots - 32)) - 1)) >>> 0;
  }
  return {
    last: status,
    changesLo: lo,
    changesHi: hi,
    samples: prev.samples < window ? prev.samples + 1 : window,
    share: weightedShare(lo, hi, slots),
  };
}

/** Weighted change share of a history of `slots` change bits (bit age 0 = newest). */
function weightedShare(lo: number, hi: number, slots: number): number {
  if (lo === 0 && hi === 0) return 0;
  if (slots === 1) return lo & 1;
  // Change at age a sits at position k = slots-1-a from the oldest; its
  // weight rises linearly from OLDEST at k = 0 to NEWEST at k = slots-1.
  // Summing the positions first (integers) and dividing once keeps the end
  // weights exact, so a share can equal a configured threshold exactly.
  let n = 0;
  let ages = 0;
  for (let w = lo; w !== 0; w &= w - 1) {
    ages += 31 - Math.clz32(w & -w);
    n++;
  }
  for (let w = hi; w !== 0; w &= w - 1) {
    ages += 63 - Math.clz32(w & -w);
    n++;
  }
  const positions = n * (slots - 1) - ages;
  const sum = n * FLAP_WEIGHT_OLDEST + ((FLAP_WEIGHT_NEWEST - FLAP_WEIGHT_OLDEST) * positions) / (slots - 1);
  return sum / slots;
}
