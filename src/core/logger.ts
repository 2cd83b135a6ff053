import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { formatLogLine } from './log-line.js';

export type { Logger };

/** Log settings from the config's `log:` section. */
export interface LogSettings {
  level: string;
  /** auto: readable on a TTY, JSON otherwise. */
  format: 'auto' | 'json' | 'pretty';
}

/**
 * A pino logger. Pretty printing runs in-process (no transport thread), so a
 * short-lived CLI exits without waiting for a worker.
 */
export function createLogger(settings: LogSettings, stream: NodeJS.WritableStream = process.stdout): Logger {
  const usePretty = settings.format === 'pretty' || (settings.format === 'auto' && (stream as NodeJS.WriteStream).isTTY === true);
  const options = { level: settings.level, base: undefined };
  if (!usePretty) return pino(options, stream);
  // One line per record (see log-line.ts): pino-pretty parses, our format writes the whole line.
  const colorize = settings.format === 'auto' || (stream as NodeJS.WriteStream).isTTY === true;
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
