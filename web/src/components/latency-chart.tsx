/**
 * Latency over time with percentile bands (min–max, avg–p95), drawn by uPlot.
 * uPlot is loaded on first use only, so the mesh view does not ship it.
 * A text summary under the chart gives the same figures to screen readers.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { formatMs } from '../format';

/** One bucket of latency figures, ms; t is the bucket start, epoch ms. */
export interface LatencyPoint {
  t: number;
  minMs: number;
  avgMs: number;
  p95Ms: number;
  maxMs: number;
  count: number;
}

export function LatencyChart({ points, label }: { points: LatencyPoint[]; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  const [failed, setFailed] = useState<string | null>(null);
  useEffect(() => {
    const el = box.current;
    if (!el || points.length === 0) return;
    let dispose: (() => void) | undefined;
    let cancelled = false;
    import('./uplot-chart')
      .then(({ drawLatency }) => {
        if (!cancelled) dispose = drawLatency(el, points);
      })
      .catch((err: Error) => setFailed(err.message));
    return () => {
      cancelled = true;
      dispose?.();
    };
  }, [points]);
  if (points.length === 0) return <p class="muted">No latency figures in this range.</p>;
  const total = points.reduce((n, p) => n + p.count, 0);
  const avg = points.reduce((s, p) => s + p.avgMs * p.count, 0) / Math.max(1, total);
  const p95 = Math.max(...points.map((p) => p.p95Ms));
  const max = Math.max(...points.map((p) => p.maxMs));
  return (
    <figure class="latency-chart">
      <div ref={box} class="chart-box" role="img" aria-label={`${label}: mean ${formatMs(avg)}, highest p95 ${formatMs(p95)}, max ${formatMs(max)}`} />
      {failed && <p class="notice notice-error">The chart could not be drawn: {failed}</p>}
      <figcaption class="muted">
        {points.length} buckets, {total} results. Mean {formatMs(avg)}, highest p95 {formatMs(p95)}, max {formatMs(max)}. Bands: min–max (light), mean–p95
        (dark).
      </figcaption>
    </figure>
  );
}
