/** Formatting shared by the views; times in the reader's locale and zone. */

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dateTimeFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
const dayFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });

export function formatTime(ms: number): string {
  return Math.abs(Date.now() - ms) < 86_400_000 ? timeFmt.format(ms) : dateTimeFmt.format(ms);
}

export function formatDateTime(ms: number): string {
  return dateTimeFmt.format(ms);
}

/** A UTC day (uptime days are UTC). */
export function formatDay(ms: number): string {
  return dayFmt.format(ms);
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 10_000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

/** A duration in words: 300 ms, 45 s, 12 min, 3 h 5 min, 2 d 4 h. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return formatMs(ms);
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h${m % 60 ? ` ${m % 60} min` : ''}`;
  const d = Math.floor(h / 24);
  return `${d} d${h % 24 ? ` ${h % 24} h` : ''}`;
}

export function formatPercent(p: number | null | undefined, digits = 2): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return 'n/a';
  if (p >= 100) return '100%';
  return `${(Math.floor(p * 10 ** digits) / 10 ** digits).toFixed(digits)}%`;
}

export function formatAgo(ms: number): string {
  return `${formatDuration(Math.max(0, Date.now() - ms))} ago`;
}
