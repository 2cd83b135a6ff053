/**
 * `consumeRows`: the XLSX writer gives a document's rows back as it writes
 * them (what keeps a year's detailed report under its memory target), and
 * the file still holds every row.
 */
import { PassThrough } from 'node:stream';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareReport } from '../../src/reports/generate.js';
import type { OpenedSource } from '../../src/reports/sqlite-source.js';
import { END, writeFixture, type Fixture } from './fixture.js';
import { fixtureSource, request } from './helpers.js';

let fixture: Fixture;
let opened: OpenedSource;

beforeAll(async () => {
  fixture = await writeFixture();
  opened = await fixtureSource(fixture);
}, 60_000);
afterAll(async () => {
  await opened?.close();
  await fixture?.close();
});

describe('XLSX with consumeRows', () => {
  it('empties each written row, keeps the counts, and writes every row to the file', async () => {
    const prepared = await prepareReport({
      source: opened.source,
      request: request({ type: 'detailed' }),
      format: 'xlsx',
      now: END + 7_200_000,
      render: { consumeRows: true },
    });
    const before = prepared.document.tables.map((t) => ({ id: t.id, rows: t.rows.length, first: t.rows[0] }));
    expect(before.some((t) => t.rows > 10)).toBe(true);
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    await prepared.write(out);
    for (const t of prepared.document.tables) {
      const was = before.find((b) => b.id === t.id)!;
      expect(t.rows.length, t.id).toBe(was.rows);
      expect(
        t.rows.every((r) => r.length === 0),
        t.id,
      ).toBe(true);
    }
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.concat(chunks) as unknown as ArrayBuffer); // exceljs types want an ArrayBuffer; it reads Buffers
    for (const b of before) {
      const ws = wb.worksheets.find((w) => w.actualRowCount === b.rows + 1 && w.getRow(2).getCell(1).value !== null);
      expect(ws, `a sheet with the ${b.rows} rows of ${b.id}`).toBeDefined();
    }
  }, 60_000);
});
