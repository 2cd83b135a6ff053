/** Units accepted in durations, in milliseconds. */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const COMPOUND_RE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;

/**
 * Parse a duration such as `500ms`, `10s`, `1m30s`, `2h` into milliseconds.
 * A bare number is taken as milliseconds. Returns undefined when invalid.
 */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  if (!COMPOUND_RE.test(text)) return undefined;
  let total = 0;
  for (const part of text.match(/\d+(?:\.\d+)?(?:ms|s|m|h|d)/g) ?? []) {
    const m = DURATION_RE.exec(part);
    if (!m) return undefined;
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  return total;
}

/** Milliseconds back to the shortest readable duration (`1500` → `1.5s`). */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms * 100) / 100}ms`;
  if (ms < 60_000) return `${Math.round(ms / 10) / 100}s`;
  if (ms < 3_600_000) return `${Math.round(ms / 600) / 100}m`;
  return `${Math.round(ms / 36_000) / 100}h`;
}
