/**
 * Prometheus for tests: a parser for the text exposition format, promtool's
 * linter, and a real Prometheus server started in a temp dir. Missing
 * binaries (Debian's `prometheus` package) make the tests fail, never skip.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One sample line of the text format. */
export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parse the Prometheus text format (0.0.4) into samples; comments and blank lines are skipped. */
export function parseExposition(text: string): ParsedSample[] {
  const samples: ParsedSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    let i = 0;
    while (i < line.length && line[i] !== '{' && line[i] !== ' ') i++;
    const name = line.slice(0, i);
    const labels: Record<string, string> = {};
    if (line[i] === '{') {
      i++;
      while (line[i] !== '}') {
        const eq = line.indexOf('=', i);
        const key = line.slice(i, eq);
        if (line[eq + 1] !== '"') throw new Error(`bad label in: ${line}`);
        let j = eq + 2;
        let value = '';
        while (line[j] !== '"') {
          if (j >= line.length) throw new Error(`unterminated label value in: ${line}`);
          if (line[j] === '\\') {
            const next = line[j + 1];
            value += next === 'n' ? '\n' : next;
            j += 2;
          } else {
            value += line[j++];
          }
        }
        labels[key] = value;
        i = j + 1;
        if (line[i] === ',') i++;
      }
      i++;
    }
    const [raw] = line.slice(i).trim().split(' ');
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    samples.push({ name, labels, value });
  }
  return samples;
}

/** Samples of one metric name whose labels include `match`. */
export function samplesOf(samples: ParsedSample[], name: string, match: Record<string, string> = {}): ParsedSample[] {
  return samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v));
}

/** The value of the single sample of `name` matching `match`; throws if there is not exactly one. */
export function sampleValue(samples: ParsedSample[], name: string, match: Record<string, string> = {}): number {
  const found = samplesOf(samples, name, match);
  if (found.length !== 1) throw new Error(`expected one ${name}${JSON.stringify(match)}, found ${found.length}`);
  return found[0]!.value;
}

function missing(binary: string): Error {
  return new Error(`${binary} not found on PATH: install Debian's "prometheus" package (apt-get install prometheus)`);
}

/** Run `promtool check metrics` on an exposition; `output` holds every problem it reports. */
export function promtoolCheckMetrics(text: string): { code: number | null; output: string } {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
  if (run.error) throw (run.error as NodeJS.ErrnoException).code === 'ENOENT' ? missing('promtool') : run.error;
  return { code: run.status, output: `${run.stdout}${run.stderr}` };
}

/** A free TCP port on 127.0.0.1 (bound, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** One series of an instant-query answer. */
export interface QuerySeries {
  metric: Record<string, string>;
  value: [number, string];
}

/** A Prometheus server started by a test. */
export interface RunningPrometheus {
  /** Base URL, e.g. http://127.0.0.1:40123 */
  url: string;
  /** Instant query through /api/v1/query. */
  query(promql: string): Promise<QuerySeries[]>;
  /** Everything the server logged so far (for failure messages). */
  output(): string;
  /** Stop the server (TERM, then KILL after 10 s) and delete its temp dir. */
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  /** host:port targets of the scrape job. */
  targets: string[];
  job?: string;
  scrapeIntervalSeconds?: number;
  /** Longest wait for /-/ready, ms. */
  readyTimeoutMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/**
 * Start `prometheus` with a generated config (one job scraping `targets`) and
 * a TSDB in a fresh temp dir; resolves once /-/ready answers 200. Retries on
 * another port if the chosen one was taken in between.
 */
export async function startPrometheus(options: PrometheusOptions): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'healthmesh-prom-'));
  const interval = options.scrapeIntervalSeconds ?? 1;
  const config = [
    'global:',
    `  scrape_interval: ${interval}s`,
    `  scrape_timeout: ${interval}s`,
    `  evaluation_interval: ${interval}s`,
    'scrape_configs:',
    `  - job_name: ${JSON.stringify(options.job ?? 'healthmesh')}`,
    '    metrics_path: /metrics',
    '    static_configs:',
    `      - targets: [${options.targets.map((t) => JSON.stringify(t)).join(', ')}]`,
    '',
  ].join('\n');
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, config);
  try {
    for (let tries = 1; ; tries++) {
      try {
        return await launch(dir, configFile, await freePort(), options.readyTimeoutMs ?? 30_000);
      } catch (err) {
        if (tries >= 3 || !/address already in use/i.test(String(err))) throw err;
      }
    }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

async function launch(dir: string, configFile: string, port: number, readyTimeoutMs: number): Promise<RunningPrometheus> {
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    'prometheus',
    [`--config.file=${configFile}`, `--storage.tsdb.path=${join(dir, `data-${port}`)}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=info'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d));
  child.stderr!.on('data', (d: Buffer) => (log += d));
  let spawnError: Error | null = null;
  child.once('error', (err: NodeJS.ErrnoException) => (spawnError = err.code === 'ENOENT' ? missing('prometheus') : err));
  const gone = new Promise<void>((resolve) => child.once('close', () => resolve()));

  const stop = async (): Promise<void> => {
    if (!exited(child) && child.pid !== undefined) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (spawnError) throw spawnError;
    if (exited(child)) throw new Error(`prometheus exited (code ${child.exitCode}) before it was ready:\n${log}`);
    try {
      const res = await fetch(`${url}/-/ready`);
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus not ready within ${readyTimeoutMs} ms:\n${log}`);
    }
    await sleep(100);
  }

  return {
    url,
    output: () => log,
    stop,
    async query(promql: string): Promise<QuerySeries[]> {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = (await res.json()) as { status: string; error?: string; data?: { result: QuerySeries[] } };
      if (body.status !== 'success') throw new Error(`query ${promql} failed: ${body.error ?? res.status}`);
      return body.data!.result;
    },
  };
}

/** Poll `probe` until it returns a value other than undefined; reject after timeoutMs. */
export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string | (() => string)): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`);
    }
    await sleep(250);
  }
}
