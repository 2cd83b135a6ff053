import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfigFile } from '../../src/config/load.js';
import { createLogger } from '../../src/core/logger.js';
import { SecretSet } from '../../src/security/secrets.js';
import { startDaemon, type Daemon } from '../../src/daemon.js';

/** A fresh private directory. */
export function tempDir(prefix = 'hm-sec-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A daemon started from a config file (so reload exists), its log lines kept as text. */
export interface SecureDaemon {
  daemon: Daemon;
  dir: string;
  configPath: string;
  /** Every log line written so far (JSON text). */
  logs: string[];
  stop(): Promise<void>;
}

/** Start the real daemon on `yaml` written to a file in a temp dir, with `env` for ${VAR}. */
export async function secureDaemon(yaml: string, env: NodeJS.ProcessEnv = {}): Promise<SecureDaemon> {
  const dir = tempDir();
  const configPath = join(dir, 'healthmesh.yaml');
  writeFileSync(configPath, yaml.replaceAll('$DIR', dir));
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const config = await loadConfigFile(configPath, env);
  // As the CLI wires it: one secret set for the logger and the daemon.
  const secrets = new SecretSet();
  const logger = createLogger({ level: 'info', format: 'json' }, sink, secrets);
  const daemon = await startDaemon({ config, configPath, logger, secrets });
  return { daemon, dir, configPath, logs, stop: () => daemon.stop() };
}
