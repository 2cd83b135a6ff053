/**
 * HTML: one self-contained file. Inline CSS and inline SVG charts
 * (svg-charts.ts), no script, and a Content-Security-Policy that forbids
 * every fetch, so opening it makes no request. Tables scroll sideways on a
 * phone; print CSS drops the scroll boxes and keeps charts on one page each.
 */
import type { Writable } from 'node:stream';
import type { ReportDocument } from '../types.js';
import { ChunkWriter, displayCell, escapeHtml as esc, finish, localTime } from './cells.js';
import { chartSvg, STATUS_COLOR } from './svg-charts.js';
import type { ReportRenderer } from './types.js';

const CSS = `
:root{color-scheme:light;--fg:#1d2329;--muted:#5d6873;--line:#d9dee3;--bg:#fff;--head:#f4f6f8}
*{box-sizing:border-box}
body{margin:0;padding:24px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1200px;margin:0 auto}
h1{font-size:1.6em;margin:0 0 4px}
h2{font-size:1.2em;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
.meta{color:var(--muted);margin:0 0 12px}
.notes li{margin:4px 0;color:var(--muted)}
figure{margin:16px 0;padding:8px 12px;border:1px solid var(--line);border-radius:6px;break-inside:avoid;page-break-inside:avoid}
figcaption{font-weight:600;margin-bottom:4px}
svg.chart{width:100%;height:auto;display:block}
svg .lbl,svg .val{font-size:12px;fill:var(--fg)}
svg .tick{font-size:11px;fill:var(--muted)}
svg .axis{stroke:#8a949e;stroke-width:1}
svg .grid{stroke:#eef0f2;stroke-width:1}
svg .band-outer{fill:#4a7fd4;fill-opacity:.12;stroke:none}
svg .band-inner{fill:#4a7fd4;fill-opacity:.28;stroke:none}
svg .line-p95{fill:none;stroke:#1f4fa3;stroke-width:2}
svg .line-p50,svg .line-avg{fill:none;stroke:#4a7fd4;stroke-width:1.5;stroke-dasharray:4 3}
svg .line-forecast{fill:none;stroke:#8a58c7;stroke-width:1.5;stroke-dasharray:3 3}
svg .interval{stroke:#8a58c7;stroke-width:3;stroke-opacity:.5}
svg .forecast-dot{fill:#8a58c7}
svg .anomaly{fill:none;stroke:${STATUS_COLOR.UNHEALTHY};stroke-width:2}
.legend{display:flex;flex-wrap:wrap;gap:12px;margin:4px 0 0;padding:0;list-style:none;color:var(--muted);font-size:12px}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px;vertical-align:-1px}
.scroll{overflow-x:auto;border:1px solid var(--line);border-radius:6px}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:left;white-space:nowrap;vertical-align:top}
th{background:var(--head);position:sticky;top:0}
td.n{text-align:right}
td.wrap{white-space:normal;min-width:16em;max-width:40em;overflow-wrap:anywhere}
td.s-HEALTHY{color:#17663a;background:#e6f4ea}td.s-DEGRADED{color:#7a5a00;background:#fff4cc}
td.s-UNHEALTHY{color:#8f1d1a;background:#fde4e3}td.s-UNKNOWN{color:#4d5660;background:#eef0f2}
.desc{color:var(--muted);margin:0 0 6px}
.empty{color:var(--muted);font-style:italic}
@media (max-width:640px){body{padding:10px;font-size:13px}h1{font-size:1.3em}th,td{padding:3px 6px}figure{padding:4px;overflow-x:auto}svg.chart{min-width:560px}}
@media print{body{padding:0;font-size:10pt}.scroll{overflow:visible;border:none}th{position:static}h2{break-after:avoid}tr{break-inside:avoid}a{color:inherit}}
`;

const LEGEND = `<ul class="legend">${(Object.entries(STATUS_COLOR) as Array<[string, string]>)
  .map(([k, c]) => `<li><i style="background:${c}"></i>${k.toLowerCase()}</li>`)
  .join('')}</ul>`;

const LATENCY_LEGEND =
  '<ul class="legend"><li><i style="background:#1f4fa3"></i>p95</li><li><i style="background:#4a7fd4"></i>p50 or mean (dashed)</li>' +
  '<li><i style="background:rgba(74,127,212,.45)"></i>p50–p95 band</li><li><i style="background:rgba(74,127,212,.18)"></i>min–p99 (or max) band</li></ul>';
const SERIES_LEGEND =
  '<ul class="legend"><li><i style="background:#1f4fa3"></i>value</li><li><i style="background:#8a58c7"></i>forecast with 90 % interval</li>' +
  `<li><i style="background:none;border:2px solid ${STATUS_COLOR.UNHEALTHY}"></i>anomaly</li></ul>`;

async function render(doc: ReportDocument, out: Writable): Promise<void> {
  const tz = doc.range.timeZone;
  const w = new ChunkWriter(out);
  const f = doc.filters;
  await w.add(
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8">` +
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">` +
      `<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="generator" content="healthmesh">` +
      `<title>${esc(doc.title)}</title><style>${CSS}</style></head><body><main>`,
  );
  await w.add(
    `<header><h1>${esc(doc.title)}</h1><p class="meta">${esc(localTime(doc.range.from, tz))} → ${esc(localTime(doc.range.to, tz))} (${esc(tz)}), per ${doc.granularity} · ` +
      `services: ${esc(f.services.join(', ') || 'all')} · tags: ${esc(f.tags.join(', ') || 'any')} · zones: ${esc(f.zones.join(', ') || 'any')} · ` +
      `generated ${esc(localTime(doc.generatedAt, tz))}</p></header>`,
  );
  if (doc.notes.length) await w.add(`<section class="notes"><h2>Notes</h2><ul>${doc.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul></section>`);
  if (doc.charts.length) {
    await w.add('<section class="charts"><h2>Charts</h2>');
    for (const c of doc.charts) {
      const legend = c.kind === 'latency' ? LATENCY_LEGEND : c.kind === 'series' ? SERIES_LEGEND : LEGEND;
      await w.add(`<figure><figcaption>${esc(c.title)}</figcaption>${chartSvg(c, tz)}${legend}</figure>`);
    }
    await w.add('</section>');
  }
  for (const t of doc.tables) {
    await w.add(`<section class="table" id="table-${esc(t.id)}"><h2>${esc(t.title)}</h2><p class="desc">${esc(t.description)}</p>`);
    if (t.rows.length === 0) {
      await w.add('<p class="empty">No rows.</p></section>');
      continue;
    }
    await w.add(`<div class="scroll"><table><thead><tr>${t.columns.map((c) => `<th scope="col">${esc(c.title)}</th>`).join('')}</tr></thead><tbody>`);
    const classes = t.columns.map((c) =>
      c.type === 'text'
        ? c.key === 'output' || c.key === 'summary' || c.key === 'note' || c.key === 'detail'
          ? 'wrap'
          : ''
        : c.type === 'status'
          ? 's'
          : c.type === 'time'
            ? ''
            : 'n',
    );
    for (const row of t.rows) {
      let tr = '<tr>';
      row.forEach((v, i) => {
        const col = t.columns[i]!;
        const cls = classes[i] === 's' ? (v === null ? '' : `s-${String(v)}`) : classes[i];
        tr += `<td${cls ? ` class="${cls}"` : ''}>${esc(displayCell(col, v, tz))}</td>`;
      });
      await w.add(`${tr}</tr>`);
    }
    await w.add('</tbody></table></div></section>');
  }
  await w.add('</main></body></html>\n');
  await w.flush();
  await finish(out);
}

export const htmlFormat: ReportRenderer = {
  contentType: () => 'text/html; charset=utf-8',
  extension: () => 'html',
  render,
};
