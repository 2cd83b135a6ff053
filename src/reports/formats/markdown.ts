/**
 * Markdown (GitHub flavoured): the title, range and notes, each chart as a
 * sparkline or a row of status squares, and each table as a GitHub table
 * (pipes escaped, line breaks folded). Readable in a pull request or a wiki.
 */
import type { Writable } from 'node:stream';
import type { Chart, ReportDocument, StatusTimelineChart } from '../types.js';
import { ChunkWriter, displayCell, finish, localTime } from './cells.js';
import type { ReportRenderer } from './types.js';

const SPARKS = '▁▂▃▄▅▆▇█';
/** Status squares of a timeline slot. */
const SQUARE: Record<StatusTimelineChart['rows'][number]['segments'][number]['status'], string> = {
  HEALTHY: '🟩',
  DEGRADED: '🟨',
  UNHEALTHY: '🟥',
  UNKNOWN: '⬜',
  MAINTENANCE: '🟦',
};
const TIMELINE_SLOTS = 48;

/** A sparkline of values (nulls as spaces). */
export function sparkline(values: ReadonlyArray<number | null>): string {
  const real = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (real.length === 0) return '';
  const min = Math.min(...real);
  const max = Math.max(...real);
  return values.map((v) => (v === null || !Number.isFinite(v) ? ' ' : SPARKS[max === min ? 3 : Math.round(((v - min) / (max - min)) * 7)]!)).join('');
}

/** Escape a table cell. */
export function mdCell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function fmt(x: number): string {
  return String(Number(x.toPrecision(4)));
}

function chartLines(c: Chart, tz: string): string[] {
  switch (c.kind) {
    case 'uptime_bars':
      return [
        `**${c.title}** (█ up, ▒ down, ░ unknown or maintenance)`,
        '',
        '| Subject | Uptime | |',
        '|---|---:|---|',
        ...c.bars.map((b) => {
          const up = Math.round(((b.healthy + b.degraded) / 100) * 20);
          const down = Math.round((b.unhealthy / 100) * 20);
          const bar = '█'.repeat(up) + '▒'.repeat(down) + '░'.repeat(Math.max(0, 20 - up - down));
          return `| ${mdCell(b.label)} | ${b.uptimePercent === null ? '—' : `${b.uptimePercent.toFixed(3)} %`} | \`${bar}\` |`;
        }),
      ];
    case 'latency': {
      const p95 = c.points.map((p) => p.p95);
      const real = p95.filter((v): v is number => v !== null);
      const range = real.length ? `${fmt(Math.min(...real))}–${fmt(Math.max(...real))} ms` : 'no values';
      return [`**${c.title}**: p95 \`${sparkline(p95)}\` (${range}, ${localTime(c.points[0]?.t ?? 0, tz)} onwards)`];
    }
    case 'status_timeline': {
      const span = c.to - c.from;
      const lines = [`**${c.title}** (${localTime(c.from, tz)} → ${localTime(c.to, tz)}; 🟩 healthy 🟨 degraded 🟥 unhealthy ⬜ unknown 🟦 maintenance)`, ''];
      for (const row of c.rows) {
        let squares = '';
        for (let i = 0; i < TIMELINE_SLOTS; i++) {
          // The worst status inside each slot shows: a short incident stays visible.
          const a = c.from + (span * i) / TIMELINE_SLOTS;
          const b = c.from + (span * (i + 1)) / TIMELINE_SLOTS;
          const inSlot = row.segments.filter((s) => s.from < b && s.to > a).map((s) => s.status);
          const pick = (['UNHEALTHY', 'DEGRADED', 'MAINTENANCE', 'HEALTHY', 'UNKNOWN'] as const).find((s) => inSlot.includes(s)) ?? 'UNKNOWN';
          squares += SQUARE[pick];
        }
        lines.push(`- ${mdCell(row.label)}: ${squares}`);
      }
      return lines;
    }
    case 'series': {
      const f = c.forecast[0];
      const forecast = f ? `; forecast ${fmt(f.value)} (${fmt(f.lower)}–${fmt(f.upper)}) at ${localTime(f.t, tz)}` : '';
      return [
        `**${c.title}** (${c.unit}): \`${sparkline(c.points.map((p) => p.value))}\`${forecast}; ${c.anomalies.length} anomal${c.anomalies.length === 1 ? 'y' : 'ies'}`,
      ];
    }
  }
}

async function render(doc: ReportDocument, out: Writable): Promise<void> {
  const tz = doc.range.timeZone;
  const w = new ChunkWriter(out);
  const f = doc.filters;
  await w.add(`# ${mdCell(doc.title)}\n\n`);
  await w.add(`- Type: ${doc.type}\n- Range: ${localTime(doc.range.from, tz)} → ${localTime(doc.range.to, tz)} (${tz}), per ${doc.granularity}\n`);
  await w.add(`- Services: ${f.services.join(', ') || 'all'}; tags: ${f.tags.join(', ') || 'any'}; zones: ${f.zones.join(', ') || 'any'}\n`);
  await w.add(`- Generated: ${localTime(doc.generatedAt, tz)}\n\n`);
  if (doc.notes.length) await w.add(`## Notes\n\n${doc.notes.map((n) => `- ${n}`).join('\n')}\n\n`);
  if (doc.charts.length) {
    await w.add('## Charts\n\n');
    for (const c of doc.charts) await w.add(`${chartLines(c, tz).join('\n')}\n\n`);
  }
  for (const t of doc.tables) {
    await w.add(`## ${mdCell(t.title)}\n\n${t.description}\n\n`);
    if (t.rows.length === 0) {
      await w.add('_No rows._\n\n');
      continue;
    }
    await w.add(`| ${t.columns.map((c) => mdCell(c.title)).join(' | ')} |\n`);
    await w.add(`|${t.columns.map((c) => (c.type === 'text' || c.type === 'status' ? '---' : '---:')).join('|')}|\n`);
    for (const row of t.rows) await w.add(`| ${row.map((v, i) => mdCell(displayCell(t.columns[i]!, v, tz))).join(' | ')} |\n`);
    await w.add('\n');
  }
  await w.flush();
  await finish(out);
}

export const markdownFormat: ReportRenderer = {
  contentType: () => 'text/markdown; charset=utf-8',
  extension: () => 'md',
  render,
};
