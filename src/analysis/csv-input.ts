/**
 * Reading `timestamp,value` rows for the offline CLI: a header row, then one
 * point a line. Timestamps: ISO 8601 (`2024-05-01T12:00:00Z`, with an offset,
 * or without a zone = UTC), `YYYY-MM-DD HH:MM:SS` (UTC), or epoch seconds or
 * milliseconds (told apart by size: from 10¹¹ on it is milliseconds, i.e.
 * after 1973 in ms and before 5138 in s). Extra columns are ignored. Rows
 * must not go back in time.
 */

/** A data row that parsed. */
export interface Row {
  /** Epoch ms. */
  t: number;
  value: number;
  /** The timestamp and value exactly as written (for echoing them back). */
  rawTime: string;
  rawValue: string;
}

/** A row that did not, with its 1-based line number and why. */
export interface RowError {
  line: number;
  message: string;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const EPOCH_MS_FROM = 1e11;

/** Epoch ms of a timestamp in any accepted form, or null. */
export function parseTimestamp(text: string): number | null {
  const s = text.trim();
  if (NUMBER.test(s)) {
    const n = Number(s);
    return Math.abs(n) >= EPOCH_MS_FROM ? n : n * 1000;
  }
  const m = ISO.exec(s);
  if (!m) return null;
  const [, y, mo, d, h = '0', mi = '0', sec = '0', frac, zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(sec);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 60) return null;
  let ms = Date.UTC(year, month - 1, day, hour, minute, second) + (frac ? Math.round(Number(frac) * 1000) : 0);
  if (zone && zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offH = Number(digits.slice(0, 2));
    const offM = digits.length > 2 ? Number(digits.slice(2)) : 0;
    if (offH > 23 || offM > 59) return null;
    ms -= sign * (offH * 60 + offM) * 60_000;
  }
  return ms;
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * Parses data lines one at a time, checking order against the previous good
 * row. `next` returns a Row, a RowError, or null for a blank line.
 */
export class RowParser {
  private lastT = Number.NEGATIVE_INFINITY;

  next(text: string, line: number): Row | RowError | null {
    const s = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (s.trim() === '') return null;
    const comma = s.indexOf(',');
    if (comma < 0) return { line, message: `expected timestamp,value, found ${quote(s)}` };
    const end = s.indexOf(',', comma + 1);
    const rawTime = unquote(s.slice(0, comma).trim());
    const rawValue = unquote(s.slice(comma + 1, end < 0 ? s.length : end).trim());
    const t = parseTimestamp(rawTime);
    if (t === null || !Number.isFinite(t))
      return { line, message: `timestamp ${quote(rawTime)} is not ISO 8601, YYYY-MM-DD HH:MM:SS or epoch seconds/milliseconds` };
    if (!NUMBER.test(rawValue)) return { line, message: `value ${quote(rawValue)} is not a number` };
    const value = Number(rawValue);
    if (!Number.isFinite(value)) return { line, message: `value ${quote(rawValue)} is not a finite number` };
    if (t < this.lastT) return { line, message: `timestamp ${rawTime} is before the previous row's (rows must be in time order)` };
    this.lastT = t;
    return { t, value, rawTime, rawValue };
  }
}

/** True when a parse result is an error. */
export function isRowError(r: Row | RowError): r is RowError {
  return 'message' in r;
}

function unquote(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s;
}

function quote(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
}
