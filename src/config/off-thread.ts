/**
 * Load a config file on a thread of its own, so a reload does not stop the
 * event loop (and with it every check's schedule) while a big file is
 * parsed: at 100,000 checks the parse takes 0.4–0.5 s, the rest of a reload
 * about 30 ms (bench/config-load, bench/daemon-scale). The thread sends back
 * only the services whose text changed; the others are taken from the
 * config the daemon runs, as the same objects, so the registry leaves them
 * alone (registry.ts). The answer is the config the main thread would have
 * parsed (test/config/off-thread.test.ts).
 */
import { Worker } from 'node:worker_threads';
import { ConfigError, HealthmeshError, type ConfigIssue } from '../core/errors.js';
import { threadEntryUrl } from '../core/thread-entry.js';
import { crossChecks } from './cross-checks.js';
import { fingerprintsOf, rememberFingerprints, type ServiceFingerprints } from './fast-load.js';
import { rememberEnvValues } from './load.js';
import type { Config, ServiceConfig } from './schema.js';

/** What the thread is given. */
export interface ParseRequest {
  path: string;
  env: NodeJS.ProcessEnv;
  /** Service fingerprints of the running config: a service with the same one is not sent back. */
  fingerprints: ServiceFingerprints | null;
}

/** What the thread answers. */
export type ParseAnswer =
  | { ok: true; config: Config; order: string[]; omitted: string[]; fingerprints: ServiceFingerprints; envValues: string[] }
  | { ok: false; issues: ConfigIssue[]; file: string | undefined }
  | { ok: false; message: string };

/** Read and validate `path` off the main thread; services unchanged since `previous` are `previous`'s own objects. */
export async function loadConfigOffThread(path: string, env: NodeJS.ProcessEnv, previous?: Config): Promise<Config> {
  const fingerprints = previous ? (fingerprintsOf(previous) ?? null) : null;
  const answer = await ask({ path, env: { ...env }, fingerprints });
  if (!answer.ok) {
    if ('issues' in answer) throw new ConfigError(answer.issues, answer.file);
    throw new HealthmeshError('config_thread', answer.message);
  }
  const services: Record<string, ServiceConfig> = {};
  for (const name of answer.order) {
    const service = answer.config.services[name] ?? previous?.services[name];
    if (!service) throw new HealthmeshError('config_thread', `service ${name} was neither sent nor in the running config`);
    services[name] = service;
  }
  const config: Config = { ...answer.config, services };
  // The thread could not cross-check services it did not validate; a problem now is told by the thorough path, with lines.
  if (answer.omitted.length > 0 && crossChecks(config).length > 0) return loadConfigOffThread(path, env);
  rememberFingerprints(config, answer.fingerprints);
  rememberEnvValues(config, answer.envValues);
  return config;
}

function ask(request: ParseRequest): Promise<ParseAnswer> {
  return new Promise<ParseAnswer>((resolve, reject) => {
    const thread = new Worker(threadEntryUrl('parse-thread', import.meta.url, 'config', 'config_thread'), { workerData: request });
    let answered = false;
    thread.once('message', (message: ParseAnswer) => {
      answered = true;
      resolve(message);
    });
    thread.once('error', reject);
    thread.once('exit', (code) => {
      if (!answered) reject(new HealthmeshError('config_thread', `the config thread ended (code ${code}) without an answer`));
    });
  });
}
