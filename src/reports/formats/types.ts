/** The contract of a report format: one file per format, collected in formats/index.ts. */
import type { Writable } from 'node:stream';
import type { ReportDocument } from '../types.js';

/** What a caller may ask of a renderer. */
export interface RenderOptions {
  /** CSV: write only this table (by id) as one file instead of a zip of every table. */
  table?: string;
  /**
   * XLSX: drop each row from the document once it is written, so a large
   * document's memory is given back while the file streams out (the caller
   * renders it once and reads only its counts and headings afterwards).
   */
  consumeRows?: boolean;
}

/** Writes documents in one format. */
export interface ReportRenderer {
  /** MIME type of what `render` writes for this document. */
  contentType(doc: ReportDocument, options?: RenderOptions): string;
  /** File extension (without the dot) of what `render` writes. */
  extension(doc: ReportDocument, options?: RenderOptions): string;
  /** Write the document to `out` and end it; resolves once `out` finished. */
  render(doc: ReportDocument, out: Writable, options?: RenderOptions): Promise<void>;
}
