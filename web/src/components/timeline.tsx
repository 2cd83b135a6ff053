/**
 * A status timeline: one band across the range, a segment per status
 * period, coloured and also patterned per status (so it reads without
 * colour), each segment titled with its status and times. The periods are
 * listed in a table under it for screen readers and keyboards.
 */
import type { Segment } from '../history';
import { formatDuration, formatTime } from '../format';
import { statusClass, StatusLabel, statusWord } from './status';

const W = 1000;

export function Timeline({ segments, from, to, label }: { segments: Segment[]; from: number; to: number; label: string }) {
  const span = Math.max(1, to - from);
  const x = (t: number): number => ((Math.min(Math.max(t, from), to) - from) / span) * W;
  return (
    <div class="timeline">
      <svg viewBox={`0 0 ${W} 24`} preserveAspectRatio="none" class="timeline-band" role="img" aria-label={label}>
        <defs>
          <pattern id="tl-hatch" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
            <rect width="3" height="8" class="hatch" />
          </pattern>
        </defs>
        {segments.map((s) => (
          <g key={s.from} class={`seg ${statusClass(s.status)}`}>
            <rect x={x(s.from)} width={Math.max(1, x(s.to) - x(s.from))} height="24">
              <title>{`${statusWord(s.status)} ${formatTime(s.from)} – ${formatTime(s.to)} (${formatDuration(s.to - s.from)})`}</title>
            </rect>
            {s.status !== 'HEALTHY' && <rect x={x(s.from)} width={Math.max(1, x(s.to) - x(s.from))} height="24" fill="url(#tl-hatch)" class="seg-hatch" />}
          </g>
        ))}
      </svg>
      <div class="timeline-axis muted" aria-hidden="true">
        <span>{formatTime(from)}</span>
        <span>{formatTime(to)}</span>
      </div>
      <details>
        <summary>Periods as a table ({segments.length})</summary>
        <table class="compact">
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col">From</th>
              <th scope="col">To</th>
              <th scope="col">Lasted</th>
            </tr>
          </thead>
          <tbody>
            {segments
              .slice(-200)
              .reverse()
              .map((s) => (
                <tr key={s.from}>
                  <td>
                    <StatusLabel status={s.status} />
                  </td>
                  <td>{formatTime(s.from)}</td>
                  <td>{formatTime(s.to)}</td>
                  <td>{formatDuration(s.to - s.from)}</td>
                </tr>
              ))}
          </tbody>
        </table>
      </details>
    </div>
  );
}
