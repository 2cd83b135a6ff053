/**
 * A report from request to bytes: build the document, then render it in
 * the asked format to a stream. The CLI, the API and scheduled reports all
 * go through here.
 */
import type { Writable } from 'node:stream';
import { buildReport } from './build.js';
import { redactDocument } from './redact.js';
import { isoTime } from './formats/cells.js';
import { reportFormats } from './formats/index.js';
import type { RenderOptions } from './formats/types.js';
import type { ReportSource } from './source.js';
import type { ProgressListener, ReportDocument, ReportFormat, ReportRequest } from './types.js';

export interface GenerateOptions {
  source: ReportSource;
  request: ReportRequest;
  format: ReportFormat;
  /** Build time, epoch ms (from the caller's clock). */
  now: number;
  progress?: ProgressListener;
  render?: RenderOptions;
  /** Replaces secrets in text (the daemon's SecretSet.redact); none: the text as stored. */
  redact?: (text: string) => string;
}

/** The built document with what it will be written as. */
export interface PreparedReport {
  document: ReportDocument;
  contentType: string;
  /** A file name for it: healthmesh-<type>-<from>-<to>.<ext> (dates in the report zone). */
  fileName: string;
  /** Write it to `out` (which is ended). */
  write(out: Writable): Promise<void>;
}

/** Build a report and say how it will be written (nothing is written yet). */
export async function prepareReport(options: GenerateOptions): Promise<PreparedReport> {
  const document = await buildReport(options.source, options.request, { now: options.now, ...(options.progress ? { progress: options.progress } : {}) });
  if (options.redact) redactDocument(document, options.redact);
  const renderer = reportFormats[options.format];
  const tz = document.range.timeZone;
  const day = (t: number): string => isoTime(t, tz).slice(0, 10).replace(/-/g, '');
  return {
    document,
    contentType: renderer.contentType(document, options.render),
    fileName: `healthmesh-${document.type}-${day(document.range.from)}-${day(document.range.to)}.${renderer.extension(document, options.render)}`,
    write: (out) => renderer.render(document, out, options.render),
  };
}
