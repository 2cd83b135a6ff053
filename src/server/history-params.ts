/**
 * Query parameters of the history routes: times (epoch ms, ISO 8601, or a
 * duration back from now), rollup steps and levels. Bad input is a
 * HealthmeshError `invalid` (400) naming the parameter and what is allowed.
 */
import { HealthmeshError } from '../core/errors.js';
import { parseDuration } from '../config/duration.js';
import { TRANSITION_LEVELS, type Resolution, type TransitionLevel } from '../store/types.js';

const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/;

/** Rollup steps by their name in the API. */
export const STEPS: Record<string, Resolution> = { '1m': 'minute', '1h': 'hour' };

/** A 400 naming the parameter. */
export function invalid(field: string, message: string): HealthmeshError {
  return new HealthmeshError('invalid', `${field}: ${message}`);
}

/**
 * A time parameter, epoch ms: digits are epoch ms, an ISO 8601 date or date
 * and time is that moment (UTC unless it has an offset), a duration such as
 * `24h` or `7d` is that long before `now`. Undefined when left out.
 */
export function parseTime(field: string, value: unknown, now: number): number | undefined {
  if (value === undefined || value === '') return undefined;
  const text = typeof value === 'string' ? value.trim() : String(value);
  if (/^-?\d+$/.test(text)) {
    const ms = Number(text);
    if (Number.isSafeInteger(ms)) return ms;
  } else if (ISO_8601.test(text)) {
    // A date and time without an offset is read as UTC, like a date alone.
    const ms = Date.parse(/[T ]\d{2}:\d{2}(?::[\d.]+)?$/.test(text) ? `${text.replace(' ', 'T')}Z` : text.replace(' ', 'T'));
    if (Number.isFinite(ms)) return ms;
  } else if (/[a-z]$/.test(text)) {
    const ms = parseDuration(text);
    if (ms !== undefined) return now - ms;
  }
  throw invalid(field, `${JSON.stringify(value)} is not a time (use epoch ms, ISO 8601 such as 2024-05-01T12:00:00Z, or a duration back from now such as 24h)`);
}

/** A [from, to) range: `to` defaults to now, `from` to `to` − `defaultSpanMs`; from must be before to. */
export function parseRange(query: { from?: unknown; to?: unknown }, now: number, defaultSpanMs: number): { from: number; to: number } {
  const to = parseTime('to', query.to, now) ?? now;
  const from = parseTime('from', query.from, now) ?? to - defaultSpanMs;
  if (from >= to) throw invalid('from', `${from} is not before to (${to})`);
  return { from, to };
}

/** The rollup step (default 1m). */
export function parseStep(value: unknown): Resolution {
  if (value === undefined) return 'minute';
  const step = typeof value === 'string' ? STEPS[value] : undefined;
  if (!step) throw invalid('step', `${JSON.stringify(value)} is not one of ${Object.keys(STEPS).join(', ')}`);
  return step;
}

/** A comma-separated list of transition levels (default all). */
export function parseLevels(value: unknown): TransitionLevel[] | undefined {
  if (value === undefined || value === '') return undefined;
  const levels = String(value)
    .split(',')
    .map((l) => l.trim());
  for (const l of levels) {
    if (!TRANSITION_LEVELS.some((known) => known === l)) throw invalid('level', `"${l}" is not one of ${TRANSITION_LEVELS.join(', ')}`);
  }
  return TRANSITION_LEVELS.filter((l) => levels.includes(l));
}

/** A page size, 1..max (default 100). */
export function parseLimit(value: unknown, max: number): number {
  if (value === undefined || value === '') return 100;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw invalid('limit', `${JSON.stringify(value)} is not an integer from 1 to ${max}`);
  return n;
}
