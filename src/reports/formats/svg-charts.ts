/**
 * Inline SVG of each chart kind for the HTML report: no script, no font or
 * image fetched, sized by viewBox so it scales to a phone and to paper.
 */
import type { Chart, LatencyChart, SeriesChart, StatusTimelineChart, UptimeBarsChart } from '../types.js';
import { escapeHtml as esc, localTime } from './cells.js';

/** Fill of each status (also in the HTML legend). */
export const STATUS_COLOR = {
  HEALTHY: '#2e9d5b',
  DEGRADED: '#e0a100',
  UNHEALTHY: '#d64541',
  UNKNOWN: '#b8bec6',
  MAINTENANCE: '#5b8def',
} as const;

const W = 800;
const n1 = (x: number): string => (Math.round(x * 10) / 10).toString();

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

function fmtValue(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : String(Number(v.toPrecision(3)));
}

function svgOpen(kind: string, id: string, title: string, height: number): string {
  return `<svg class="chart" data-chart="${kind}" id="chart-${esc(id)}" viewBox="0 0 ${W} ${height}" role="img" aria-label="${esc(title)}" xmlns="http://www.w3.org/2000/svg">`;
}

function uptimeBars(c: UptimeBarsChart): string {
  const rowH = 22;
  const left = 190;
  const barW = 500;
  const h = c.bars.length * rowH + 8;
  let s = svgOpen(c.kind, c.id, c.title, h);
  c.bars.forEach((b, i) => {
    const y = 4 + i * rowH;
    s += `<text x="${left - 8}" y="${y + 14}" text-anchor="end" class="lbl">${esc(b.label.length > 28 ? `${b.label.slice(0, 27)}…` : b.label)}</text>`;
    let x = left;
    for (const [k, v] of [
      ['HEALTHY', b.healthy],
      ['DEGRADED', b.degraded],
      ['UNHEALTHY', b.unhealthy],
      ['MAINTENANCE', b.maintenance],
      ['UNKNOWN', b.unknown],
    ] as const) {
      const w = (v / 100) * barW;
      if (w <= 0) continue;
      s += `<rect x="${n1(x)}" y="${y + 2}" width="${n1(Math.max(w, 0.5))}" height="${rowH - 6}" fill="${STATUS_COLOR[k]}"><title>${esc(b.label)}: ${k.toLowerCase()} ${fmtValue(v)} % of the range</title></rect>`;
      x += w;
    }
    s += `<text x="${left + barW + 8}" y="${y + 14}" class="val">${b.uptimePercent === null ? 'no data' : `${b.uptimePercent.toFixed(3)} %`}</text>`;
  });
  return `${s}</svg>`;
}

/** x and y scales of a time chart. */
function frame(t0: number, t1: number, yMax: number, h: number, tz: string, unit: string): { x(t: number): number; y(v: number): number; axes: string } {
  const left = 60;
  const right = W - 16;
  const top = 22;
  const bottom = h - 28;
  const x = (t: number): number => left + ((t - t0) / Math.max(1, t1 - t0)) * (right - left);
  const y = (v: number): number => bottom - (v / yMax) * (bottom - top);
  let axes = `<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" class="axis"/>`;
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    axes += `<line x1="${left}" y1="${n1(y(v))}" x2="${right}" y2="${n1(y(v))}" class="grid"/><text x="${left - 6}" y="${n1(y(v) + 4)}" text-anchor="end" class="tick">${fmtValue(v)}</text>`;
  }
  axes += `<text x="${left - 6}" y="12" text-anchor="end" class="tick">${esc(unit)}</text>`;
  for (let i = 0; i <= 4; i++) {
    const t = t0 + ((t1 - t0) * i) / 4;
    axes += `<text x="${n1(x(t))}" y="${h - 8}" text-anchor="${i === 0 ? 'start' : i === 4 ? 'end' : 'middle'}" class="tick">${esc(localTime(Math.round(t), tz))}</text>`;
  }
  return { x, y, axes };
}

function path(points: Array<[number, number]>): string {
  return points.map(([x, y], i) => `${i ? 'L' : 'M'}${n1(x)} ${n1(y)}`).join('');
}

/** A band between two series as one polygon (points where either is missing are skipped). */
function band(xs: number[], lo: Array<number | null>, hi: Array<number | null>, fx: (t: number) => number, fy: (v: number) => number): string {
  const upper: Array<[number, number]> = [];
  const lower: Array<[number, number]> = [];
  xs.forEach((t, i) => {
    if (lo[i] == null || hi[i] == null) return;
    upper.push([fx(t), fy(hi[i]!)]);
    lower.push([fx(t), fy(lo[i]!)]);
  });
  if (upper.length < 2) return '';
  return `${path([...upper, ...lower.reverse()])}Z`;
}

function latency(c: LatencyChart, tz: string): string {
  const h = 240;
  const pts = c.points;
  const t0 = pts[0]?.t ?? 0;
  const t1 = pts.length > 1 ? pts[pts.length - 1]!.t : t0 + 1;
  const yMax = niceMax(Math.max(0, ...pts.map((p) => p.p99 ?? p.p95 ?? p.max ?? 0)));
  const { x, y, axes } = frame(t0, t1, yMax, h, tz, 'ms');
  const ts = pts.map((p) => p.t);
  const clip = (v: number | null): number | null => (v === null ? null : Math.min(v, yMax));
  let s = svgOpen(c.kind, c.id, c.title, h) + axes;
  const outer = band(
    ts,
    pts.map((p) => clip(p.min)),
    pts.map((p) => clip(p.p99 ?? p.max)),
    x,
    y,
  );
  if (outer) s += `<path d="${outer}" class="band-outer"><title>${pts.some((p) => p.p99 !== null) ? 'min to p99' : 'min to max (clipped)'}</title></path>`;
  const inner = band(
    ts,
    pts.map((p) => clip(p.p50 ?? p.avg)),
    pts.map((p) => clip(p.p95)),
    x,
    y,
  );
  if (inner) s += `<path d="${inner}" class="band-inner"><title>${pts.some((p) => p.p50 !== null) ? 'p50 to p95' : 'mean to p95'}</title></path>`;
  for (const [key, cls] of [
    ['p95', 'line-p95'],
    ['p50', 'line-p50'],
    ['avg', 'line-avg'],
  ] as const) {
    const line = pts.filter((p) => p[key] !== null).map((p): [number, number] => [x(p.t), y(Math.min(p[key]!, yMax))]);
    if (line.length > 1) s += `<path d="${path(line)}" class="${cls}"><title>${key}</title></path>`;
    else if (line.length === 1) s += `<circle cx="${n1(line[0]![0])}" cy="${n1(line[0]![1])}" r="3" class="${cls}"/>`;
  }
  return `${s}</svg>`;
}

function timeline(c: StatusTimelineChart, tz: string): string {
  const rowH = 18;
  const left = 190;
  const right = W - 10;
  const h = c.rows.length * rowH + 30;
  const x = (t: number): number => left + ((t - c.from) / Math.max(1, c.to - c.from)) * (right - left);
  let s = svgOpen(c.kind, c.id, c.title, h);
  c.rows.forEach((r, i) => {
    const y = 4 + i * rowH;
    s += `<text x="${left - 8}" y="${y + 12}" text-anchor="end" class="lbl">${esc(r.label.length > 28 ? `${r.label.slice(0, 27)}…` : r.label)}</text>`;
    for (const seg of r.segments) {
      const w = Math.max(0.6, x(seg.to) - x(seg.from));
      s += `<rect x="${n1(x(seg.from))}" y="${y}" width="${n1(w)}" height="${rowH - 4}" fill="${STATUS_COLOR[seg.status]}"><title>${esc(r.label)}: ${seg.status} ${esc(localTime(seg.from, tz))} → ${esc(localTime(seg.to, tz))}</title></rect>`;
    }
  });
  s += `<text x="${left}" y="${h - 6}" class="tick">${esc(localTime(c.from, tz))}</text><text x="${right}" y="${h - 6}" text-anchor="end" class="tick">${esc(localTime(c.to, tz))}</text>`;
  return `${s}</svg>`;
}

function series(c: SeriesChart, tz: string): string {
  const h = 200;
  const all = [...c.points.map((p) => p.value), ...c.forecast.map((f) => f.upper)];
  const yMax = niceMax(Math.max(0, ...all));
  const t0 = c.points[0]?.t ?? 0;
  const t1 = Math.max(t0 + 1, ...c.points.map((p) => p.t), ...c.forecast.map((f) => f.t));
  const { x, y, axes } = frame(t0, t1, yMax, h, tz, c.unit);
  let s = svgOpen(c.kind, c.id, c.title, h) + axes;
  const line = c.points.map((p): [number, number] => [x(p.t), y(Math.max(0, p.value))]);
  if (line.length) s += `<path d="${path(line)}" class="line-p95"/>`;
  for (const f of c.forecast) {
    const last = line[line.length - 1];
    if (last) s += `<path d="M${n1(last[0])} ${n1(last[1])}L${n1(x(f.t))} ${n1(y(Math.max(0, f.value)))}" class="line-forecast"/>`;
    s += `<line x1="${n1(x(f.t))}" y1="${n1(y(Math.max(0, f.lower)))}" x2="${n1(x(f.t))}" y2="${n1(y(f.upper))}" class="interval"><title>forecast ${fmtValue(f.value)} (${fmtValue(f.lower)}–${fmtValue(f.upper)})</title></line>`;
    s += `<circle cx="${n1(x(f.t))}" cy="${n1(y(Math.max(0, f.value)))}" r="3.5" class="forecast-dot"/>`;
  }
  const byT = new Map(c.points.map((p) => [p.t, p.value]));
  for (const a of c.anomalies) {
    // Anomalies are flagged on rollup buckets; the drawn points are bucket means: mark at the nearest one.
    const near = c.points.reduce((best, p) => (Math.abs(p.t - a) < Math.abs(best.t - a) ? p : best), c.points[0] ?? { t: a, value: 0 });
    s += `<circle cx="${n1(x(a))}" cy="${n1(y(Math.max(0, byT.get(a) ?? near.value)))}" r="4" class="anomaly"><title>anomaly at ${esc(localTime(a, tz))}</title></circle>`;
  }
  return `${s}</svg>`;
}

/** The SVG of a chart. */
export function chartSvg(c: Chart, tz: string): string {
  switch (c.kind) {
    case 'uptime_bars':
      return uptimeBars(c);
    case 'latency':
      return latency(c, tz);
    case 'status_timeline':
      return timeline(c, tz);
    case 'series':
      return series(c, tz);
  }
}
