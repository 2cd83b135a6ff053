import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseConfig } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/schema.js';
import { startDaemon, type Daemon } from '../../../src/daemon.js';

/** A fresh directory for a daemon's SQLite file. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'hm-web-'));
}

/** The real daemon on loopback (port 0 unless given), logging only errors. */
export async function runDaemon(config: Config | string, port = 0): Promise<{ daemon: Daemon; base: string }> {
  const parsed = typeof config === 'string' ? parseConfig(config, { env: {} }) : config;
  const daemon = await startDaemon({ config: parsed, logger: pino({ level: 'error' }), listen: `127.0.0.1:${port}` });
  return { daemon, base: `http://127.0.0.1:${daemon.address.port}` };
}

/** Wait until `probe` holds, checking every 50 ms, at most `ms`. */
export async function until(probe: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}
