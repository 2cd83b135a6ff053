/**
 * The one-line form of a log record, for people reading a terminal:
 *
 *   12:01:55 billing/b1/tcp UNKNOWN → UNHEALTHY connect_refused (ECONNREFUSED 127.0.0.1:1)
 *   12:02:10 WARN history flush failed; rows kept for the next flush err="disk I/O error"
 *
 * The message leads; the level is shown only from WARN up; a field follows
 * as key=value only when the message does not already say its value (a
 * transition's message names its check, statuses and reason, so its fields
 * would only repeat it). JSON output keeps every field.
 */
import { styleText } from 'node:util';

/** pino's numeric levels and their labels. */
const LEVEL_LABEL: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const WARN = 40;
/** Keys pino adds itself, never shown as fields. */
const OWN_KEYS = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

/**
 * Format one pino record (as parsed from its JSON line) as one line.
 *
 * @param log the record: `level` (number), `time` (epoch ms), `msg` and fields.
 * @param colorize ANSI colours for the level and the fields.
 */
export function formatLogLine(log: Record<string, unknown>, colorize: boolean): string {
  const paint = (format: Parameters<typeof styleText>[0], text: string) => (colorize ? styleText(format, text) : text);
  const msg = typeof log.msg === 'string' ? log.msg : '';
  const parts = [clockTime(log.time)];
  const level = typeof log.level === 'number' ? log.level : 30;
  if (level >= WARN) parts.push(paint(level >= 50 ? 'red' : 'yellow', LEVEL_LABEL[level] ?? String(level)));
  if (msg) parts.push(msg);
  for (const [key, value] of Object.entries(log)) {
    if (OWN_KEYS.has(key) || value === undefined) continue;
    if (msg.includes(typeof value === 'string' ? value : fieldText(value))) continue;
    const text = fieldText(value);
    parts.push(paint('dim', `${key}=`) + text);
  }
  return parts.join(' ');
}

/** Local wall-clock time HH:MM:SS of an epoch-ms timestamp. */
function clockTime(time: unknown): string {
  const d = new Date(typeof time === 'number' ? time : 0);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** A field value as it reads on the line: strings quoted only when they hold spaces. */
function fieldText(value: unknown): string {
  if (typeof value === 'string') return /[\s"=]/.test(value) || value === '' ? JSON.stringify(value) : value;
  if (value !== null && typeof value === 'object' && 'message' in value && typeof value.message === 'string') return JSON.stringify(value.message);
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}
