/**
 * JSON: the document as it is (docs/report-schema.json), written table by
 * table and row by row, so a large table is never one string.
 */
import type { Writable } from 'node:stream';
import type { ReportDocument } from '../types.js';
import { ChunkWriter, finish } from './cells.js';
import type { ReportRenderer } from './types.js';

async function render(doc: ReportDocument, out: Writable): Promise<void> {
  const w = new ChunkWriter(out);
  const { tables, charts, ...head } = doc;
  const headJson = JSON.stringify(head);
  await w.add(`${headJson.slice(0, -1)},"tables":[`);
  for (const [i, t] of tables.entries()) {
    const { rows, ...meta } = t;
    const metaJson = JSON.stringify(meta);
    await w.add(`${i ? ',' : ''}${metaJson.slice(0, -1)},"rows":[`);
    for (const [j, row] of rows.entries()) await w.add(`${j ? ',' : ''}${JSON.stringify(row)}`);
    await w.add(']}');
  }
  await w.add(`],"charts":${JSON.stringify(charts)}}\n`);
  await w.flush();
  await finish(out);
}

export const jsonFormat: ReportRenderer = {
  contentType: () => 'application/json; charset=utf-8',
  extension: () => 'json',
  render,
};
