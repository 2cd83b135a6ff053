import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';
import type { Redactor } from '../security/secrets.js';
import { formatLogLine } from './log-line.js';

export type { Logger };

// pino-pretty (CommonJS, some 30 modules) is required only when a log is pretty: a daemon writing JSON never loads it.
const requireCjs = createRequire(import.meta.url);

/** Log settings from the config's `log:` section. */
export interface LogSettings {
  level: string;
  /** auto: readable on a TTY, JSON otherwise. */
  format: 'auto' | 'json' | 'pretty';
}

/**
 * A pino logger; with `secrets`, every known secret in a line is replaced by [redacted]. Pretty printing runs in-process (no transport thread), so a
 * short-lived CLI exits without waiting for a worker.
 */
export function createLogger(settings: LogSettings, stream: NodeJS.WritableStream = process.stdout, secrets?: Redactor): Logger {
  const usePretty = settings.format === 'pretty' || (settings.format === 'auto' && (stream as NodeJS.WriteStream).isTTY === true);
  // Every line passes the secret filter as JSON text, before pretty printing: no secret reaches a log (security/secrets.ts).
  const options = { level: settings.level, base: undefined, ...(secrets ? { hooks: { streamWrite: (s: string) => secrets.redact(s) } } : {}) };
  if (!usePretty) return pino(options, stream);
  // One line per record (see log-line.ts): pino-pretty parses, our format writes the whole line.
  const colorize = settings.format === 'auto' || (stream as NodeJS.WriteStream).isTTY === true;
  const pretty = requireCjs('pino-pretty') as typeof import('pino-pretty');
  return pino(
    options,
    pretty({
      destination: stream,
      colorize,
      hideObject: true,
      ignore: 'pid,hostname,time,level',
      messageFormat: (log) => formatLogLine(log, colorize),
    }),
  );
}
