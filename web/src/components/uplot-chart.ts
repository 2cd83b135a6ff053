/** The uPlot side of LatencyChart (its own chunk: loaded on first use). */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { LatencyPoint } from './latency-chart';

const css = (name: string): string => getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';

/** Draw into `el`, sized to it and redrawn on resize and on a theme change; returns the disposal. */
export function drawLatency(el: HTMLElement, points: LatencyPoint[]): () => void {
  const data: uPlot.AlignedData = [
    points.map((p) => p.t / 1000),
    points.map((p) => p.maxMs),
    points.map((p) => p.p95Ms),
    points.map((p) => p.avgMs),
    points.map((p) => p.minMs),
  ];
  let plot: uPlot | null = null;
  const make = (): void => {
    plot?.destroy();
    const line = css('--accent');
    const band = css('--band');
    const bandStrong = css('--band-strong');
    const axis = { stroke: css('--muted'), grid: { stroke: css('--grid'), width: 1 }, ticks: { stroke: css('--grid') } };
    plot = new uPlot(
      {
        width: Math.max(280, el.clientWidth),
        height: 220,
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
        axes: [axis, { ...axis, values: (_u, ticks) => ticks.map((t) => `${t} ms`), size: 60 }],
        series: [
          {},
          { label: 'max', stroke: 'transparent', points: { show: false } },
          { label: 'p95', stroke: line, dash: [4, 4], width: 1, points: { show: false } },
          { label: 'mean', stroke: line, width: 2, points: { show: false } },
          { label: 'min', stroke: 'transparent', points: { show: false } },
        ],
        bands: [
          { series: [1, 4], fill: band },
          { series: [2, 3], fill: bandStrong },
        ],
        legend: { live: true },
        cursor: { drag: { x: true, y: false } },
      },
      data,
      el,
    );
  };
  make();
  const resize = new ResizeObserver(() => plot?.setSize({ width: Math.max(280, el.clientWidth), height: 220 }));
  resize.observe(el);
  const scheme = matchMedia('(prefers-color-scheme: dark)');
  scheme.addEventListener('change', make);
  return () => {
    resize.disconnect();
    scheme.removeEventListener('change', make);
    plot?.destroy();
  };
}
