/**
 * The last hour of a score as a small SVG line (one point a minute, gaps
 * where nothing is known), with its lowest value in words for screen readers.
 */
import { memo } from './memo';

const W = 120;
const H = 24;

interface Drawn {
  d: string;
  /** The one known point when there is no line to draw. */
  lone: { x: number; y: number } | null;
}

function draw(values: ReadonlyArray<number | null>): Drawn {
  const step = W / Math.max(1, values.length - 1);
  let d = '';
  let pen = false;
  let points = 0;
  let last = { x: 0, y: 0 };
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) {
      pen = false;
      continue;
    }
    last = { x: i * step, y: H - 2 - (v / 100) * (H - 4) };
    d += `${pen ? 'L' : 'M'}${last.x.toFixed(1)} ${last.y.toFixed(1)}`;
    pen = true;
    points++;
  }
  return { d, lone: points === 1 ? last : null };
}

function SparklineImpl({ values }: { values: ReadonlyArray<number | null> }) {
  let min: number | null = null;
  for (const v of values) if (v !== null && (min === null || v < min)) min = v;
  const label = min === null ? 'no score in the last hour' : `lowest score in the last hour: ${min}`;
  const { d, lone } = draw(values);
  const mid = H - 2 - 0.5 * (H - 4);
  return (
    <svg class="spark" viewBox={`0 0 ${W} ${H}`} width={W} height={H} role="img" aria-label={label} preserveAspectRatio="none">
      <line x1="0" x2={W} y1={mid} y2={mid} class="spark-mid" />
      {d && <path d={d} class="spark-line" />}
      {lone && <circle cx={lone.x} cy={lone.y} r="2" class="spark-dot" />}
    </svg>
  );
}

/** Re-rendered only when the array changes (rows replace it when their service changes). */
export const Sparkline = memo(SparklineImpl, (a, b) => a.values === b.values);
