/** Every report format's renderer, one line each, and the format a file name implies. */
import { UsageError } from '../../core/errors.js';
import { REPORT_FORMATS, type ReportFormat } from '../types.js';
import { csvFormat } from './csv.js';
import { htmlFormat } from './html.js';
import { jsonFormat } from './json.js';
import { markdownFormat } from './markdown.js';
import type { ReportRenderer } from './types.js';
import { xlsxFormat } from './xlsx.js';

export const reportFormats = {
  json: jsonFormat,
  html: htmlFormat,
  csv: csvFormat,
  markdown: markdownFormat,
  xlsx: xlsxFormat,
} satisfies Record<ReportFormat, ReportRenderer>;

const BY_EXTENSION: Record<string, ReportFormat> = {
  json: 'json',
  html: 'html',
  htm: 'html',
  csv: 'csv',
  zip: 'csv',
  md: 'markdown',
  markdown: 'markdown',
  xlsx: 'xlsx',
};

/** The format a file name's extension implies, or undefined. */
export function formatOfFile(path: string): ReportFormat | undefined {
  const m = /\.([A-Za-z]+)$/.exec(path);
  return m ? BY_EXTENSION[m[1]!.toLowerCase()] : undefined;
}

/** A format name checked (`md` is markdown), or a UsageError naming the field. */
export function parseFormat(value: string, field = 'format'): ReportFormat {
  const v = value.toLowerCase();
  const found = v === 'md' ? 'markdown' : REPORT_FORMATS.find((f) => f === v);
  if (found) return found;
  throw new UsageError(`${field}: "${value}" is not a report format (use ${REPORT_FORMATS.join(', ')})`);
}
