/**
 * One bar a day, coloured by uptime and also labelled: each bar has its day
 * and figure as text for screen readers and as a tooltip, and the whole
 * strip has a summary line, so colour is never the only carrier.
 */
import { formatDay, formatPercent } from '../format';

export interface DayBar {
  start: number;
  uptimePercent: number | null;
}

/** Uptime → bar class: the thresholds shields uses for uptime badges. */
export function uptimeClass(p: number | null): string {
  if (p === null) return 'up-none';
  return p >= 99.9 ? 'up-good' : p >= 99 ? 'up-fair' : p >= 95 ? 'up-poor' : 'up-bad';
}

export function UptimeBars({ days, label }: { days: DayBar[]; label: string }) {
  const known = days.filter((d) => d.uptimePercent !== null);
  const worst = known.reduce<DayBar | null>((w, d) => (w === null || d.uptimePercent! < w.uptimePercent! ? d : w), null);
  return (
    <figure class="uptime">
      <ol class="uptime-bars" aria-label={label}>
        {days.map((d) => {
          const text = `${formatDay(d.start)}: ${d.uptimePercent === null ? 'no data' : formatPercent(d.uptimePercent, 2)}`;
          return (
            <li key={d.start} class={`bar ${uptimeClass(d.uptimePercent)}`} title={text}>
              <span class="visually-hidden">{text}</span>
            </li>
          );
        })}
      </ol>
      <figcaption class="muted">
        {days.length} days (UTC), oldest first.{' '}
        {known.length === 0 ? 'No data yet.' : `Lowest: ${formatPercent(worst!.uptimePercent, 2)} on ${formatDay(worst!.start)}.`}
      </figcaption>
    </figure>
  );
}
