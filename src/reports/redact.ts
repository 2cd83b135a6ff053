/**
 * Secrets out of a built report: check outputs, reasons and error texts come
 * from the history store, and a target may have echoed a secret into them.
 * The daemon passes its SecretSet's `redact`; every string of the document
 * goes through it before any format renders it.
 */
import type { ReportDocument } from './types.js';

/** Replace, in place, every string of the document by `redact(string)`. */
export function redactDocument(document: ReportDocument, redact: (text: string) => string): void {
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') return redact(value);
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) value[i] = walk(value[i]);
      return value;
    }
    if (value !== null && typeof value === 'object') {
      const record = value as Record<string, unknown>;
      for (const key of Object.keys(record)) record[key] = walk(record[key]);
    }
    return value;
  };
  walk(document);
}
