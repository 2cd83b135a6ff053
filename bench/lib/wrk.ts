/**
 * wrk runs for the proxy benches: run it, read its summary, and the delay()
 * script that holds a set of connections at a request rate.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What a wrk --latency summary says. */
export interface WrkSummary {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Socket errors plus non-2xx/3xx responses. */
  errors: number;
}

/** One wrk run against http://127.0.0.1:port/ (bounded: killed 30 s past its duration). */
export async function wrkRun(port: number, threads: number, connections: number, seconds: number, script?: string): Promise<WrkSummary> {
  const args = [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, '--latency', ...(script ? ['-s', script] : []), `http://127.0.0.1:${port}/`];
  const text = await run('wrk', args, (seconds + 30) * 1000);
  const num = (re: RegExp): number => Number(re.exec(text)?.[1] ?? NaN);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const errs = socketErrors ? socketErrors.slice(1).reduce((s, x) => s + Number(x), 0) : 0;
  const non2xx = num(/Non-2xx or 3xx responses: (\d+)/);
  const res: WrkSummary = {
    rps: Math.round(num(/Requests\/sec:\s+([\d.]+)/)),
    p50Ms: latencyMs(text, '50%'),
    p99Ms: latencyMs(text, '99%'),
    requests: num(/(\d+) requests in/),
    errors: errs + (Number.isNaN(non2xx) ? 0 : non2xx),
  };
  if (Number.isNaN(res.rps) || Number.isNaN(res.p99Ms)) throw new Error(`could not read wrk output:\n${text}`);
  return res;
}

/**
 * A delay() script for `connections` connections to send about `rps`
 * requests/s together. The delay is random (uniform over 0..2d ms, mean d):
 * wrk fires delays on whole-millisecond timer ticks, so a constant delay
 * makes the connections that finish within the same millisecond send again
 * together, and they soon march in step: at 8k requests/s that is one burst of
 * all 32 every ~4 ms (measured: direct p50 0.55 ms in step against 0.17 ms
 * with random delays), which measures a saturated proxy for the length of
 * each burst instead of a proxy below saturation.
 */
export function rateScript(dir: string, rps: number, connections: number): { path: string; meanDelayMs: number } {
  const meanDelayMs = Math.max(1, Math.round((connections / rps) * 1000));
  const path = join(dir, `rate-${rps}.lua`);
  writeFileSync(path, `function delay() return math.random(0, ${2 * meanDelayMs}) end\n`);
  return { path, meanDelayMs };
}

/** A percentile line of wrk --latency ("     99%    1.23ms") in ms. */
function latencyMs(text: string, pct: string): number {
  const m = new RegExp(`^\\s+${pct}\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(text);
  if (!m) return NaN;
  const v = Number(m[1]);
  return Math.round((m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v) * 1000) / 1000;
}

/** Run a program to completion (bounded by timeoutMs), returning stdout; rejects on failure. */
function run(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
    p.stderr.on('data', (b: Buffer) => (err += b.toString('utf8')));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${out}${err}`));
    });
  });
}
