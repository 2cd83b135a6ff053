/**
 * Every report type in every format, from the fixture history in a real
 * SQLite store, parsed back with an independent reader: JSON against the
 * published schema (ajv), CSV with csv-parse (zip with yauzl), XLSX re-read
 * with exceljs (types and formats checked), Markdown tables parsed. HTML is
 * checked in a browser (html-browser.test.ts).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv } from 'ajv';
import { parse as parseCsv } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import { machineCell } from '../../src/reports/formats/cells.js';
import { REPORT_JSON_SCHEMA } from '../../src/reports/formats/json-schema.js';
import { NUM_FMT } from '../../src/reports/formats/xlsx.js';
import type { OpenedSource } from '../../src/reports/sqlite-source.js';
import { REPORT_TYPES, type ReportDocument, type Table } from '../../src/reports/types.js';
import { writeFixture, type Fixture } from './fixture.js';
import { fixtureSource, render, request } from './helpers.js';

/** ms between Excel's day 0 (1899-12-30) and the Unix epoch. */
const EXCEL_EPOCH_OFFSET_MS = 25_569 * 86_400_000;

let fixture: Fixture;
let opened: OpenedSource;
const docs = new Map<string, ReportDocument>();

beforeAll(async () => {
  fixture = await writeFixture();
  opened = await fixtureSource(fixture);
}, 60_000);
afterAll(async () => {
  await opened?.close();
  await fixture?.close();
});

async function unzip(buf: Buffer): Promise<Map<string, Buffer>> {
  const zip = await new Promise<yauzl.ZipFile>((res, rej) => yauzl.fromBuffer(buf, { lazyEntries: true }, (err, z) => (err ? rej(err) : res(z!))));
  const files = new Map<string, Buffer>();
  await new Promise<void>((res, rej) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      zip.openReadStream(entry, (err, stream) => {
        if (err) return rej(err);
        const chunks: Buffer[] = [];
        stream!.on('data', (c: Buffer) => chunks.push(c));
        stream!.on('end', () => {
          files.set(entry.fileName, Buffer.concat(chunks));
          zip.readEntry();
        });
      });
    });
    zip.on('end', res);
    zip.on('error', rej);
    zip.readEntry();
  });
  return files;
}

/** Split a GitHub table row on unescaped pipes. */
function mdRow(line: string): string[] {
  const cells: string[] = [];
  let cur = '';
  for (let i = 1; i < line.length - 1; i++) {
    if (line[i] === '\\' && i + 1 < line.length - 1) {
      cur += line[++i];
      continue;
    }
    if (line[i] === '|') {
      cells.push(cur.trim());
      cur = '';
    } else cur += line[i];
  }
  cells.push(cur.trim());
  return cells;
}

/** Tables of a Markdown report: `## title` then a header row, a delimiter row and body rows. */
function mdTables(text: string): Map<string, { header: string[]; rows: string[][] }> {
  const out = new Map<string, { header: string[]; rows: string[][] }>();
  const lines = text.split('\n');
  let title = '';
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.startsWith('## ')) title = l.slice(3);
    else if (l.startsWith('| ') && /^\|(-{3}:?\|)+$/.test(lines[i + 1] ?? '') && !out.has(title)) {
      const header = mdRow(l);
      const rows: string[][] = [];
      let j = i + 2;
      for (; j < lines.length && lines[j]!.startsWith('|'); j++) rows.push(mdRow(lines[j]!));
      expect(
        rows.every((r) => r.length === header.length),
        `${title}: every row has ${header.length} cells`,
      ).toBe(true);
      out.set(title, { header, rows });
      i = j;
    }
  }
  return out;
}

describe.each(REPORT_TYPES)('the %s report', (type) => {
  const doc = async (): Promise<ReportDocument> => {
    if (!docs.has(type)) docs.set(type, (await render(opened.source, request({ type }), 'json')).doc);
    return docs.get(type)!;
  };

  it('has tables with rows (alerts and trends included) and charts where the type draws them', async () => {
    const d = await doc();
    expect(d.tables.length).toBeGreaterThan(0);
    expect(d.tables.some((t) => t.rows.length > 0)).toBe(true);
    if (type !== 'alerts') expect(d.charts.length).toBeGreaterThan(0);
  });

  it('json: valid against the published schema, and the document itself', async () => {
    const r = await render(opened.source, request({ type }), 'json');
    expect(r.contentType).toMatch(/^application\/json/);
    expect(r.fileName).toBe(`healthmesh-${type}-20261101-20261103.json`);
    const published = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../docs/report-schema.json'), 'utf8'));
    expect(published).toEqual(JSON.parse(JSON.stringify(REPORT_JSON_SCHEMA)));
    const validate = new Ajv({ strict: true, allowUnionTypes: true, allErrors: true }).compile(published);
    const parsed = JSON.parse(r.bytes.toString('utf8'));
    expect(validate(parsed), JSON.stringify(validate.errors)).toBe(true);
    expect(parsed).toEqual(JSON.parse(JSON.stringify(r.doc)));
    // The schema can fail: a row cell of the wrong type is refused.
    const broken = structuredClone(parsed);
    broken.tables[0].rows.push([{ nested: true }]);
    expect(validate(broken)).toBe(false);
  });

  it('csv: a zip of one RFC 4180 file per table, each parsed back to the same cells', async () => {
    const r = await render(opened.source, request({ type }), 'csv');
    expect(r.contentType).toBe('application/zip');
    const files = await unzip(r.bytes);
    expect([...files.keys()].sort()).toEqual(['README.txt', ...r.doc.tables.map((t) => `${t.id}.csv`)].sort());
    for (const t of r.doc.tables) {
      const text = files.get(`${t.id}.csv`)!.toString('utf8');
      expect(text.endsWith('\r\n')).toBe(true);
      const records: string[][] = parseCsv(text, { relax_column_count: false });
      expect(records[0]).toEqual(t.columns.map((c) => c.key));
      expect(records.length - 1).toBe(t.rows.length);
      t.rows.forEach((row, i) => {
        expect(records[i + 1]).toEqual(row.map((v, j) => machineCell(t.columns[j]!, v, 'UTC')));
      });
    }
  });

  it('csv: one table alone as text/csv', async () => {
    const d = await doc();
    const table = d.tables.find((t) => t.rows.length > 0)!;
    const r = await render(opened.source, request({ type }), 'csv', table.id);
    expect(r.contentType).toMatch(/^text\/csv/);
    expect(r.fileName.endsWith('.csv')).toBe(true);
    const records: string[][] = parseCsv(r.bytes.toString('utf8'));
    expect(records.length).toBe(table.rows.length + 1);
  });

  it('xlsx: a sheet per table with typed, formatted cells, frozen header and status colours', async () => {
    const r = await render(opened.source, request({ type }), 'xlsx');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(r.bytes as unknown as ArrayBuffer);
    expect(wb.worksheets.map((w) => w.name)).toEqual(['Report', ...r.doc.tables.map((t) => t.id.slice(0, 28))]);
    for (const t of r.doc.tables) {
      const ws = wb.getWorksheet(t.id.slice(0, 28))!;
      expect(ws.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
      expect((ws.getRow(1).values as unknown[]).slice(1)).toEqual(t.columns.map((c) => c.title));
      expect(ws.actualRowCount).toBe(t.rows.length + 1);
      t.rows.slice(0, 50).forEach((row, i) => {
        row.forEach((v, j) => {
          const col = t.columns[j]!;
          const cell = ws.getRow(i + 2).getCell(j + 1);
          if (v === null) {
            expect(cell.value ?? null).toBeNull();
            return;
          }
          switch (col.type) {
            case 'time':
              expect(cell.value).toBeInstanceOf(Date);
              expect((cell.value as Date).getTime()).toBe(v);
              break;
            case 'percent':
              expect(cell.value as number).toBeCloseTo((v as number) / 100, 12);
              break;
            case 'duration':
              // A [h]:mm:ss cell is an Excel serial (days); exceljs reads any time-formatted serial back as a Date from 1899-12-30.
              expect(cell.value).toBeInstanceOf(Date);
              expect((cell.value as Date).getTime() + EXCEL_EPOCH_OFFSET_MS).toBeCloseTo(v as number, 0);
              break;
            default:
              expect(cell.value).toBe(v);
          }
          if (NUM_FMT[col.type]) expect(cell.numFmt, `${t.id}.${col.key}`).toBe(NUM_FMT[col.type]);
        });
      });
      const statusCols = t.columns.filter((c) => c.type === 'status').length;
      const cf = (ws as unknown as { conditionalFormattings: Array<{ rules: Array<{ formulae: string[] }> }> }).conditionalFormattings;
      expect(cf.length).toBe(statusCols);
      for (const f of cf) expect(f.rules.map((x) => x.formulae[0])).toEqual(['"HEALTHY"', '"DEGRADED"', '"UNHEALTHY"', '"UNKNOWN"']);
    }
  });

  it('markdown: GitHub tables with the same columns and rows', async () => {
    const r = await render(opened.source, request({ type }), 'markdown');
    const text = r.bytes.toString('utf8');
    expect(text.startsWith(`# ${r.doc.title}\n`)).toBe(true);
    const tables = mdTables(text);
    for (const t of r.doc.tables) {
      if (t.rows.length === 0) {
        expect(text).toContain(`## ${t.title}\n\n${t.description}\n\n_No rows._`);
        continue;
      }
      const parsed = tables.get(t.title)!;
      expect(parsed.header).toEqual(t.columns.map((c) => c.title));
      expect(parsed.rows.length).toBe(t.rows.length);
      // Text cells read back exactly (pipes and line breaks escaped).
      t.columns.forEach((c, j) => {
        if (c.type !== 'text' && c.type !== 'status') return;
        t.rows.forEach((row, i) => {
          expect(parsed.rows[i]![j]).toBe(row[j] === null ? '—' : String(row[j]).replace(/\r?\n/g, ' '));
        });
      });
    }
    if (r.doc.charts.some((c) => c.kind === 'latency' || c.kind === 'series')) expect(text).toMatch(/`[▁▂▃▄▅▆▇█ ]{3,}`/);
  });
});

describe('table helpers', () => {
  it('quotes CSV fields holding commas, quotes and line breaks', async () => {
    const { csvLines } = await import('../../src/reports/formats/csv.js');
    const t: Table = {
      id: 't',
      title: 'T',
      description: '',
      columns: [
        { key: 'a', title: 'A', type: 'text' },
        { key: 'b', title: 'B', type: 'integer' },
      ],
      rows: [
        ['x,"y"\r\nz', 1],
        [null, null],
      ],
    };
    const text = [...csvLines(t, 'UTC')].join('');
    expect(text).toBe('a,b\r\n"x,""y""\r\nz",1\r\n,\r\n');
    expect(parseCsv(text)).toEqual([
      ['a', 'b'],
      ['x,"y"\r\nz', '1'],
      ['', ''],
    ]);
  });
});
