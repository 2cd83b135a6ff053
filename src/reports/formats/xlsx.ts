/**
 * Excel XLSX (exceljs, streaming writer: rows are committed as they are
 * written, so a large table does not sit in memory twice): a "Report" sheet
 * with the range, filters and notes, then a sheet per table with typed
 * cells: times as dates (wall time of the report's zone, which Excel cannot
 * hold), durations as Excel durations ([h]:mm:ss), percentages as fractions
 * with a % format, integers and numbers with thousands separators; the
 * header row frozen and filterable; status columns coloured by conditional
 * formatting. Charts stay in the HTML report (exceljs writes none).
 */
import type { Writable } from 'node:stream';
import type { CellValue } from 'exceljs';
import { zoneOffset } from '../periods.js';
import type { Cell, ColumnType, ReportDocument } from '../types.js';
import { isoTime } from './cells.js';
import type { RenderOptions, ReportRenderer } from './types.js';

/** What a consumed row becomes (RenderOptions.consumeRows): one shared empty row. */
const WRITTEN: Cell[] = [];

const DAY_MS = 86_400_000;

/** Number format of each column type. */
export const NUM_FMT: Record<ColumnType, string | undefined> = {
  text: undefined,
  status: undefined,
  integer: '#,##0',
  number: '#,##0.000',
  percent: '0.000%',
  duration: '[h]:mm:ss',
  time: 'yyyy-mm-dd hh:mm:ss',
};

/** Fill colour of each status (conditional formatting). */
const STATUS_FILL: Record<string, string> = { HEALTHY: 'FFC6EFCE', DEGRADED: 'FFFFEB9C', UNHEALTHY: 'FFFFC7CE', UNKNOWN: 'FFE0E0E0' };

function cellValue(type: ColumnType, v: Cell, tz: string): CellValue {
  if (v === null) return null;
  if (typeof v === 'string') return v;
  switch (type) {
    case 'time':
      return new Date(v + zoneOffset(v, tz));
    case 'duration':
      return v / DAY_MS;
    case 'percent':
      return v / 100;
    default:
      return v;
  }
}

/** Sheet names: at most 31 characters, none of []:*?/\, unique. */
function sheetName(id: string, used: Set<string>): string {
  const base = id.replace(/[[\]:*?/\\]/g, '_').slice(0, 28) || 'table';
  let name = base;
  for (let n = 2; used.has(name.toLowerCase()); n++) name = `${base}_${n}`;
  used.add(name.toLowerCase());
  return name;
}

function columnLetter(i: number): string {
  let s = '';
  for (let n = i + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

async function render(doc: ReportDocument, out: Writable, options?: RenderOptions): Promise<void> {
  const tz = doc.range.timeZone;
  const finished = new Promise<void>((resolve, reject) => {
    out.once('finish', resolve);
    out.once('error', reject);
  });
  // Loaded when an XLSX is asked for: exceljs adds ~27 MB to a daemon that may never write one.
  const { default: ExcelJS } = await import('exceljs');
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false });
  wb.creator = 'healthmesh';
  wb.created = new Date(doc.generatedAt);
  const used = new Set<string>();

  const info = wb.addWorksheet(sheetName('Report', used));
  info.columns = [
    { key: 'k', width: 16 },
    { key: 'v', width: 120 },
  ];
  const f = doc.filters;
  const head: Array<[string, string]> = [
    ['Report', doc.title],
    ['Type', doc.type],
    ['From', isoTime(doc.range.from, tz)],
    ['To', isoTime(doc.range.to, tz)],
    ['Time zone', `${tz} (times in the sheets are wall times of this zone)`],
    ['Granularity', doc.granularity],
    ['Services', f.services.join(', ') || 'all'],
    ['Tags', f.tags.join(', ') || 'any'],
    ['Zones', f.zones.join(', ') || 'any'],
    ['Generated', isoTime(doc.generatedAt, tz)],
    ...doc.notes.map((n): [string, string] => ['Note', n]),
    ...doc.tables.map((t): [string, string] => ['Sheet', `${t.id}: ${t.title}. ${t.description}`]),
  ];
  for (const [k, v] of head) {
    const row = info.addRow([k, v]);
    row.getCell(1).font = { bold: true };
    row.commit();
  }
  info.commit();

  for (const t of doc.tables) {
    const ws = wb.addWorksheet(sheetName(t.id, used), { views: [{ state: 'frozen', ySplit: 1 }] });
    ws.columns = t.columns.map((c) => {
      const fmt = NUM_FMT[c.type];
      const width = c.type === 'text' ? (c.key === 'output' || c.key === 'summary' || c.key === 'note' ? 60 : 22) : c.type === 'time' ? 20 : 14;
      return { header: c.title, key: c.key, width, ...(fmt ? { style: { numFmt: fmt } } : {}) };
    });
    const header = ws.getRow(1);
    header.font = { bold: true };
    header.commit();
    const last = Math.max(2, t.rows.length + 1);
    ws.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: t.columns.length } };
    t.columns.forEach((c, i) => {
      if (c.type !== 'status') return;
      const col = columnLetter(i);
      ws.addConditionalFormatting({
        ref: `${col}2:${col}${last}`,
        rules: Object.entries(STATUS_FILL).map(([status, argb], p) => ({
          type: 'cellIs',
          operator: 'equal',
          formulae: [`"${status}"`],
          priority: p + 1,
          style: { fill: { type: 'pattern', pattern: 'solid', bgColor: { argb } } },
        })),
      });
    });
    for (const [n, r] of t.rows.entries()) {
      ws.addRow(r.map((v, i) => cellValue(t.columns[i]!.type, v, tz))).commit();
      if (options?.consumeRows) t.rows[n] = WRITTEN;
      // Let the event loop run on long sheets: a daemon serving an API report keeps answering.
      if (n % 2000 === 1999) await new Promise((resolve) => setImmediate(resolve));
    }
    ws.commit();
  }
  await wb.commit();
  await finished;
}

export const xlsxFormat: ReportRenderer = {
  contentType: () => 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  extension: () => 'xlsx',
  render,
};
