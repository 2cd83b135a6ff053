/**
 * 1h, 24h, 7d, 30d or a custom range; the choice lives in the URL (range=
 * and, for custom, from= and to= in epoch ms) so a view can be linked.
 */
import { useState } from 'preact/hooks';

export type RangeName = '1h' | '24h' | '7d' | '30d' | 'custom';
export const RANGES: Record<Exclude<RangeName, 'custom'>, number> = { '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 };

export interface Range {
  name: RangeName;
  from: number;
  to: number;
}

export function rangeFromParams(params: URLSearchParams, now: number): Range {
  const name = (params.get('range') ?? '1h') as RangeName;
  if (name === 'custom') {
    const from = Number(params.get('from'));
    const to = Number(params.get('to'));
    if (Number.isFinite(from) && Number.isFinite(to) && from < to) return { name, from, to };
  }
  const span = RANGES[name as keyof typeof RANGES] ?? RANGES['1h'];
  return { name: name in RANGES ? name : '1h', from: now - span, to: now };
}

/** Minute rollups up to two days, hour rollups beyond (at most ~2,900 points either way). */
export function stepFor(range: Range): '1m' | '1h' {
  return range.to - range.from <= 2 * 86_400_000 ? '1m' : '1h';
}

const toLocalInput = (ms: number): string => {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
};

export function RangePicker({ range, onChange }: { range: Range; onChange: (r: Range) => void }) {
  const [from, setFrom] = useState(toLocalInput(range.from));
  const [to, setTo] = useState(toLocalInput(range.to));
  const now = Date.now();
  return (
    <div class="range-picker">
      <fieldset aria-label="Time range" class="segmented">
        {(Object.keys(RANGES) as Array<keyof typeof RANGES>).map((name) => (
          <button key={name} type="button" aria-pressed={range.name === name} onClick={() => onChange({ name, from: now - RANGES[name], to: now })}>
            {name}
          </button>
        ))}
      </fieldset>
      <form
        class="custom-range"
        onSubmit={(e) => {
          e.preventDefault();
          const f = new Date(from).getTime();
          const t = new Date(to).getTime();
          if (Number.isFinite(f) && Number.isFinite(t) && f < t) onChange({ name: 'custom', from: f, to: t });
        }}
      >
        <label>
          From <input type="datetime-local" value={from} onInput={(e) => setFrom(e.currentTarget.value)} />
        </label>
        <label>
          To <input type="datetime-local" value={to} onInput={(e) => setTo(e.currentTarget.value)} />
        </label>
        <button type="submit" aria-pressed={range.name === 'custom'}>
          Custom range
        </button>
      </form>
    </div>
  );
}
