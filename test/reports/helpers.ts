/** Generating reports of the fixture into buffers. */
import { PassThrough } from 'node:stream';
import { parseConfig } from '../../src/config/load.js';
import { prepareReport } from '../../src/reports/generate.js';
import { sqliteReportSource, type OpenedSource } from '../../src/reports/sqlite-source.js';
import type { ReportDocument, ReportFormat, ReportRequest } from '../../src/reports/types.js';
import { END, FIXTURE_YAML, T0, type Fixture } from './fixture.js';

/** The fixture's source with the fixture config (tags, zones, a maintenance window). */
export async function fixtureSource(f: Fixture, withConfig = true, sliceRows?: number): Promise<OpenedSource> {
  return sqliteReportSource(f.store, withConfig ? parseConfig(FIXTURE_YAML.replace('PATH', f.path)) : undefined, sliceRows ? { sliceRows } : {});
}

export function request(over: Partial<ReportRequest> = {}): ReportRequest {
  return { type: 'summary', from: T0, to: END, timeZone: 'UTC', services: [], tags: [], zones: [], granularity: 'auto', ...over };
}

/** A report rendered into memory. */
export async function render(
  source: OpenedSource['source'],
  req: ReportRequest,
  format: ReportFormat,
  table?: string,
): Promise<{ doc: ReportDocument; bytes: Buffer; contentType: string; fileName: string }> {
  const prepared = await prepareReport({ source, request: req, format, now: END + 2 * 3_600_000, ...(table ? { render: { table } } : {}) });
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await prepared.write(out);
  return { doc: prepared.document, bytes: Buffer.concat(chunks), contentType: prepared.contentType, fileName: prepared.fileName };
}
