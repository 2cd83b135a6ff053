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
export async function loadConfigOffThread(
  path: string,
  env: NodeJS.ProcessEnv,
  previous?: Config,
  thread: ConfigThread = new ConfigThread(false),
): Promise<Config> {
  const fingerprints = previous ? (fingerprintsOf(previous) ?? null) : null;
  const answer = await thread.ask({ path, env: { ...env }, fingerprints });
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
  if (answer.omitted.length > 0 && crossChecks(config).length > 0) return loadConfigOffThread(path, env, undefined, thread);
  rememberFingerprints(config, answer.fingerprints);
  rememberEnvValues(config, answer.envValues);
  return config;
}

/**
 * The thread that parses: started for one reload and ended after it, or
 * kept between reloads (`keep`). Starting it and loading its modules take
 * about 0.25 s, as long as parsing 50,000 checks, so a big config keeps one
 * warm (daemon.ts, WARM_CONFIG_THREAD_CHECKS); a kept thread holds its own heap.
 */
export class ConfigThread {
  private current: { worker: Worker; pending: Map<number, (answer: ParseAnswer | Error) => void> } | null = null;
  private nextId = 0;

  constructor(private keep: boolean) {}

  /** Keep the thread between requests, or end it once idle. */
  setKeep(keep: boolean): void {
    this.keep = keep;
    if (!keep && this.current?.pending.size === 0) void this.close();
  }

  /** The running thread's id, or null when none runs. */
  get threadId(): number | null {
    return this.current?.worker.threadId ?? null;
  }

  /** Start the thread now, so the next request does not wait for it. */
  warm(): void {
    this.thread();
  }

  ask(request: ParseRequest): Promise<ParseAnswer> {
    const { worker, pending } = this.thread();
    const id = ++this.nextId;
    worker.ref(); // an answer is awaited: the process must not end before it
    return new Promise<ParseAnswer>((resolve, reject) => {
      pending.set(id, (answer) => (answer instanceof Error ? reject(answer) : resolve(answer)));
      worker.postMessage({ id, request });
    });
  }

  /** End the thread; requests in flight fail. */
  async close(): Promise<void> {
    const current = this.current;
    this.current = null;
    await current?.worker.terminate();
  }

  private thread(): NonNullable<ConfigThread['current']> {
    if (this.current) return this.current;
    const worker = new Worker(threadEntryUrl('parse-thread', import.meta.url, 'config', 'config_thread'));
    worker.unref(); // an idle kept thread never holds the process open
    const current = { worker, pending: new Map<number, (answer: ParseAnswer | Error) => void>() };
    const settleAll = (answer: Error): void => {
      if (this.current === current) this.current = null;
      for (const settle of current.pending.values()) settle(answer);
      current.pending.clear();
    };
    worker.on('message', ({ id, answer }: { id: number; answer: ParseAnswer }) => {
      current.pending.get(id)?.(answer);
      current.pending.delete(id);
      if (current.pending.size > 0) return;
      worker.unref();
      if (!this.keep && this.current === current) void this.close();
    });
    worker.on('error', settleAll);
    worker.on('exit', (code) => settleAll(new HealthmeshError('config_thread', `the config thread ended (code ${code}) without an answer`)));
    this.current = current;
    return current;
  }
}
