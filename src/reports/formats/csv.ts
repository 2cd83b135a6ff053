/**
 * CSV (RFC 4180): a header row of column keys, CRLF line ends, fields
 * quoted when they hold a comma, a quote or a line break. Times are ISO 8601
 * with the report zone's offset, durations ms, percentages 0–100. One table
 * (`table` option, or a document with one table) is one CSV file; otherwise
 * a zip (yazl) holds one CSV per table and a README.txt with the report's
 * range, filters and notes.
 */
import { Readable, type Writable } from 'node:stream';
import { UsageError } from '../../core/errors.js';
import type { ReportDocument, Table } from '../types.js';
import { ChunkWriter, finish, isoTime, machineCell } from './cells.js';
import type { RenderOptions, ReportRenderer } from './types.js';

/** Quote a field when RFC 4180 asks for it. */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The rows of a table as CSV lines (header first). */
export function* csvLines(table: Table, tz: string): Generator<string> {
  yield `${table.columns.map((c) => csvField(c.key)).join(',')}\r\n`;
  for (const row of table.rows) yield `${row.map((v, i) => csvField(machineCell(table.columns[i]!, v, tz))).join(',')}\r\n`;
}

/** Lines joined into pieces of about 64 KiB. */
function* chunked(lines: Iterable<string>): Generator<Buffer> {
  let buf = '';
  for (const line of lines) {
    buf += line;
    if (buf.length >= 1 << 16) {
      yield Buffer.from(buf);
      buf = '';
    }
  }
  if (buf) yield Buffer.from(buf);
}

/** The one table to write alone, or null for a zip of all. */
function singleTable(doc: ReportDocument, options?: RenderOptions): Table | null {
  if (options?.table !== undefined) {
    const t = doc.tables.find((x) => x.id === options.table);
    if (!t) throw new UsageError(`table: the ${doc.type} report has no table "${options.table}" (tables: ${doc.tables.map((x) => x.id).join(', ')})`);
    return t;
  }
  return doc.tables.length === 1 ? doc.tables[0]! : null;
}

function readme(doc: ReportDocument): string {
  const tz = doc.range.timeZone;
  const lines = [
    doc.title,
    `Type: ${doc.type}`,
    `Range: ${isoTime(doc.range.from, tz)} to ${isoTime(doc.range.to, tz)} (${tz}), per ${doc.granularity}`,
    `Generated: ${isoTime(doc.generatedAt, tz)}`,
    `Filters: services ${doc.filters.services.join(' ') || 'all'}; tags ${doc.filters.tags.join(' ') || 'any'}; zones ${doc.filters.zones.join(' ') || 'any'}`,
    '',
    'Tables:',
    ...doc.tables.map((t) => `  ${t.id}.csv: ${t.title}. ${t.description}`),
    '',
    'Notes:',
    ...doc.notes.map((n) => `  - ${n}`),
    '',
    'Times are ISO 8601 with the offset of the zone; durations are milliseconds; percentages 0-100.',
  ];
  return `${lines.join('\r\n')}\r\n`;
}

async function render(doc: ReportDocument, out: Writable, options?: RenderOptions): Promise<void> {
  const tz = doc.range.timeZone;
  const one = singleTable(doc, options);
  if (one) {
    const w = new ChunkWriter(out);
    for (const line of csvLines(one, tz)) await w.add(line);
    await w.flush();
    await finish(out);
    return;
  }
  // Loaded when a zip of tables is asked for (most CSV reports are one table).
  const { ZipFile } = await import('yazl');
  const zip = new ZipFile();
  const done = new Promise<void>((resolve, reject) => {
    out.once('finish', resolve);
    out.once('error', reject);
    zip.outputStream.once('error', reject);
  });
  zip.outputStream.pipe(out);
  zip.addBuffer(Buffer.from(readme(doc)), 'README.txt');
  for (const t of doc.tables) {
    // Streamed into the zip in ~64 KiB pieces: a large table is never one string.
    zip.addReadStream(Readable.from(chunked(csvLines(t, tz))), `${t.id}.csv`);
  }
  zip.end();
  await done;
}

export const csvFormat: ReportRenderer = {
  contentType: (doc, options) => (singleTable(doc, options) ? 'text/csv; charset=utf-8; header=present' : 'application/zip'),
  extension: (doc, options) => (singleTable(doc, options) ? 'csv' : 'zip'),
  render,
};
