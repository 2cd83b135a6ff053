import type { HealthStatus } from '../core/status.js';
import type { Reason } from '../core/result.js';

/**
 * The Nagios / Monitoring Plugins protocol, as pure functions: exit code →
 * status, and the plugin's stdout → one line of text plus performance data.
 *
 * Output layout (plugin development guidelines, "Plugin Output for Nagios"):
 *
 *     TEXT OUTPUT | PERFDATA
 *     LONG TEXT LINE 1
 *     LONG TEXT LINE N | PERFDATA LINE 2
 *     PERFDATA LINE 3
 *
 * Only the first line's text is shown; perfdata is taken from the first line
 * after `|` and, in the long output, from everything after the first `|`.
 *
 * A perfdata item is `'label'=value[UOM];[warn];[crit];[min];[max]`. Metric
 * values are normalised to base units so that one metric means one thing:
 * s/ms/us → seconds, B/KB/MB/GB/TB (and KiB…, powers of 1024 as Nagios
 * plugins mean them) → bytes; `%`, `c` (counter) and unit-less values are
 * kept as written. The unit stays available in `PerfDatum.unit`. Malformed
 * items and `U` (undetermined) values are skipped, never thrown on.
 */

/** One parsed performance-data item; numbers as written (not normalised). */
export interface PerfDatum {
  /** Label as written, quotes removed (`disk /`). */
  label: string;
  value: number;
  /** Unit of measure as written (`s`, `ms`, `%`, `B`, `KB`, `c`, or ''). */
  unit: string;
  /** Warning range as written (`10`, `10:`, `~:10`, `@10:20`), if any. */
  warn?: string;
  crit?: string;
  min?: number;
  max?: number;
}

/** A plugin's stdout, split as the guidelines say. */
export interface PluginOutput {
  /** First line, text before `|`, trimmed. */
  text: string;
  /** Further lines of text (long output), without the perfdata part. */
  longText: string[];
  perfdata: PerfDatum[];
}

/** Status and reason for a plugin exit code: 0 OK, 1 WARNING, 2 CRITICAL, anything else UNKNOWN. */
export function statusOfExitCode(code: number): { status: HealthStatus; reason: Reason } {
  switch (code) {
    case 0:
      return { status: 'HEALTHY', reason: 'ok' };
    case 1:
      return { status: 'DEGRADED', reason: 'plugin_warning' };
    case 2:
      return { status: 'UNHEALTHY', reason: 'plugin_critical' };
    default:
      return { status: 'UNKNOWN', reason: 'plugin_unknown' };
  }
}

/** Splits plugin stdout into text, long text and perfdata. Never throws. */
export function parsePluginOutput(stdout: string): PluginOutput {
  const perfdata: PerfDatum[] = [];
  const longText: string[] = [];
  const lines = stdout.split('\n');
  const first = stripCr(lines[0] ?? '');
  const bar = first.indexOf('|');
  const text = (bar < 0 ? first : first.slice(0, bar)).trim();
  if (bar >= 0) parsePerfdata(first.slice(bar + 1), perfdata);
  let inPerf = false;
  for (let i = 1; i < lines.length; i++) {
    const line = stripCr(lines[i] as string);
    if (inPerf) {
      parsePerfdata(line, perfdata);
      continue;
    }
    const b = line.indexOf('|');
    if (b < 0) {
      longText.push(line);
    } else {
      if (b > 0) longText.push(line.slice(0, b));
      parsePerfdata(line.slice(b + 1), perfdata);
      inPerf = true;
    }
  }
  while (longText.length > 0 && (longText[longText.length - 1] as string).trim() === '') longText.pop();
  return { text, longText, perfdata };
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

const SPACE = /\s/;
const VALUE_RE = /^([-+]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][-+]?\d+)?)([A-Za-z%]*)$/;
const NUMBER_RE = /^[-+]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][-+]?\d+)?$/;

/**
 * Parses space-separated perfdata items from `text` and appends them to
 * `into`. Labels may be single-quoted (`'disk /'=…`, `''` is a quote inside).
 * Items that do not parse are skipped.
 */
export function parsePerfdata(text: string, into: PerfDatum[]): PerfDatum[] {
  const n = text.length;
  let i = 0;
  while (i < n) {
    while (i < n && SPACE.test(text[i] as string)) i++;
    if (i >= n) break;
    let label: string;
    if (text[i] === "'") {
      // Quoted label: '' stands for one quote.
      let j = i + 1;
      label = '';
      for (;;) {
        const q = text.indexOf("'", j);
        if (q < 0) {
          j = -1;
          break;
        }
        if (text[q + 1] === "'") {
          label += text.slice(j, q + 1);
          j = q + 2;
          continue;
        }
        label += text.slice(j, q);
        j = q + 1;
        break;
      }
      if (j < 0) break; // unterminated quote: nothing further can be trusted
      if (text[j] !== '=') {
        i = skipToken(text, j);
        continue;
      }
      i = j + 1;
    } else {
      let j = i;
      while (j < n && text[j] !== '=' && !SPACE.test(text[j] as string)) j++;
      if (j >= n || text[j] !== '=') {
        i = skipToken(text, j);
        continue;
      }
      label = text.slice(i, j);
      i = j + 1;
    }
    const end = skipToken(text, i);
    const datum = parseItemValue(label, text.slice(i, end));
    if (datum !== undefined) into.push(datum);
    i = end;
  }
  return into;
}

function skipToken(text: string, from: number): number {
  let i = from;
  while (i < text.length && !SPACE.test(text[i] as string)) i++;
  return i;
}

/** `value[UOM];warn;crit;min;max` for `label`, or undefined when malformed or `U`. */
function parseItemValue(label: string, spec: string): PerfDatum | undefined {
  if (label === '') return undefined;
  const parts = spec.split(';');
  const m = VALUE_RE.exec(parts[0] ?? '');
  if (m === null) return undefined;
  const value = toNumber(m[1] as string);
  if (!Number.isFinite(value)) return undefined;
  const datum: PerfDatum = { label, value, unit: m[2] as string };
  const warn = parts[1];
  const crit = parts[2];
  if (warn !== undefined && warn !== '') datum.warn = warn;
  if (crit !== undefined && crit !== '') datum.crit = crit;
  const min = parts[3];
  const max = parts[4];
  if (min !== undefined && NUMBER_RE.test(min)) datum.min = toNumber(min);
  if (max !== undefined && NUMBER_RE.test(max)) datum.max = toNumber(max);
  return datum;
}

/** A plain number; a single comma is taken as the decimal mark (plugins run under some locales). */
function toNumber(s: string): number {
  return Number(s.includes(',') ? s.replace(',', '.') : s);
}

/** Factor to base units (seconds, bytes) by unit, case as plugins write it; absent → kept as is. */
const UNIT_FACTORS: Readonly<Record<string, number>> = {
  s: 1,
  ms: 1e-3,
  us: 1e-6,
  B: 1,
  KB: 1024,
  kB: 1024,
  MB: 1024 ** 2,
  GB: 1024 ** 3,
  TB: 1024 ** 4,
  PB: 1024 ** 5,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
  PiB: 1024 ** 5,
};

/** The value of a datum in base units: seconds for times, bytes for sizes, else as written. */
export function normalisedValue(d: PerfDatum): number {
  const f = UNIT_FACTORS[d.unit];
  return f === undefined || f === 1 ? d.value : d.value * f;
}

/**
 * Metric name for a label or path: runs of characters other than letters,
 * digits and `_` become one `_`, leading/trailing `_` go; `/` alone is
 * `root` (`/var/log` → `var_log`, `disk /` → `disk`, `time` → `time`).
 */
export function sanitizeLabel(label: string): string {
  const s = label.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
  if (s !== '') return s;
  return /^\s*\/+\s*$/.test(label) ? 'root' : 'metric';
}

/**
 * Perfdata as metrics: sanitised label → normalised value. A label seen
 * twice (or two labels sanitising alike) gets `_2`, `_3`… appended.
 */
export function perfMetrics(perfdata: readonly PerfDatum[]): Record<string, number> {
  const metrics: Record<string, number> = {};
  for (const d of perfdata) {
    const base = sanitizeLabel(d.label);
    let key = base;
    for (let k = 2; Object.hasOwn(metrics, key); k++) key = `${base}_${k}`;
    metrics[key] = normalisedValue(d);
  }
  return metrics;
}
