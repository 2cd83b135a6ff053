import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built CLI (npm test builds before running the suite). */
export const CLI = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the CLI to completion, killing it if it outlives timeoutMs. */
export function runCli(args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...options.env }, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 15_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Start a long-running CLI process and collect its output. */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: 'pipe' });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (out += d));
  return { child, output: () => out };
}

/** True once predicate() holds, polling every `pollMs`; false when it still does not after `withinMs`. */
export async function waitUntil(predicate: () => boolean, withinMs: number, pollMs = 20): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (!predicate()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, pollMs));
  }
  return true;
}

/** Resolve when predicate() holds, polling; reject after timeoutMs. */
export async function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  if (!(await waitUntil(predicate, timeoutMs))) throw new Error(`timed out waiting for ${what}`);
}

/**
 * The `stop_ms` of the daemon's "stopped" log line (JSON log format): how
 * long its stop took from the signal, timed inside the process. Throws, with
 * the output, when there is none: the stop hung and the exit guard cut it.
 */
export function stopMs(output: string): number {
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { msg?: string; stop_ms?: number };
    if (entry.msg === 'stopped' && typeof entry.stop_ms === 'number') return entry.stop_ms;
  }
  throw new Error(`no "stopped" log line (the stop did not finish by itself):\n${output}`);
}
