import { accessSync, chmodSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createRunner } from '../../src/checks/index.js';
import { execCheckSchema } from '../../src/config/kinds/exec.js';
import type { CheckRunner } from '../../src/core/check.js';
import { openFds, settleFds } from '../helpers/fds.js';
import { closedPort, httpServer, rawServer } from '../helpers/hostile.js';
import { attempt, checkDeps, type TimedOutcome } from '../helpers/run-check.js';
import { execSpec, type ExecInput } from '../helpers/spec.js';
import { waitUntil } from '../helpers/spawn.js';

/**
 * exec check against Debian's monitoring-plugins (/usr/lib/nagios/plugins,
 * installed by scripts/install-test-peers.sh) and hostile scripts. A missing
 * plugin fails these tests: it is never skipped.
 */

const PLUGINS = '/usr/lib/nagios/plugins';
const plugin = (name: string): string => join(PLUGINS, name);
const FIXTURES = fileURLToPath(new URL('../fixtures/exec/', import.meta.url));

const runners: CheckRunner[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (runners.length > 0) await runners.pop()?.close?.();
  while (cleanups.length > 0) await cleanups.pop()?.();
});

function runner(input: ExecInput, address?: string): CheckRunner {
  const r = createRunner(execSpec(input, address), checkDeps());
  runners.push(r);
  return r;
}

/** One run, aborted at timeoutMs as the scheduler does. */
function check(input: ExecInput, address?: string, timeoutMs = 10_000): Promise<TimedOutcome> {
  return attempt(runner(input, address), timeoutMs);
}

/** State letter of a process from /proc (R, S, Z…), or undefined when it no longer exists. */
function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

/** Dead: gone, or a zombie (an orphan waits there until init reaps it; it runs nothing). */
const isDead = (pid: number): boolean => {
  const s = procState(pid);
  return s === undefined || s === 'Z' || s === 'X';
};

async function waitForFile(path: string, withinMs: number): Promise<string> {
  let text = '';
  await waitUntil(() => {
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return false;
    }
    return text.trim().split(/\s+/).length === 2;
  }, withinMs);
  return text;
}

const tmp = mkdtempSync(join(tmpdir(), 'healthmesh-exec-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('exec check with Debian monitoring-plugins', () => {
  it('has the plugins it needs installed (fails, never skips, when they are missing)', () => {
    for (const name of ['check_dummy', 'check_tcp', 'check_http', 'check_disk']) {
      expect(() => accessSync(plugin(name), constants.X_OK), `${plugin(name)} (apt install monitoring-plugins)`).not.toThrow();
    }
  });

  it.each([
    [0, 'HEALTHY', 'ok', 'OK: all good'],
    [1, 'DEGRADED', 'plugin_warning', 'WARNING: all good'],
    [2, 'UNHEALTHY', 'plugin_critical', 'CRITICAL: all good'],
    [3, 'UNKNOWN', 'plugin_unknown', 'UNKNOWN: all good'],
  ])('check_dummy %i gives %s %s with the plugin text as output', async (code, status, reason, output) => {
    const r = await check({ command: [plugin('check_dummy'), String(code), 'all good'] });
    expect(r).toMatchObject({ status, reason, output });
  });

  it('check_tcp against an open port is HEALTHY with its response time parsed (seconds)', async () => {
    const server = await rawServer((s) => s.end());
    cleanups.push(() => server.close());
    const r = await check({ command: [plugin('check_tcp'), '-H', '{{host}}', '-p', '{{port}}'] }, server.address);
    expect(r).toMatchObject({ status: 'HEALTHY', reason: 'ok' });
    expect(r.output).toMatch(new RegExp(`^TCP OK - .* port ${server.port}$`));
    expect(r.metrics?.time).toBeGreaterThanOrEqual(0);
    expect(r.metrics?.time).toBeLessThan(10);
    expect(server.connections()).toBe(1);
  });

  it('check_tcp against a closed port is UNHEALTHY plugin_critical', async () => {
    const port = await closedPort();
    const r = await check({ command: [plugin('check_tcp'), '-H', '{{host}}', '-p', '{{port}}'] }, `127.0.0.1:${port}`);
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'plugin_critical' });
    expect(r.output).toContain('Connection refused');
  });

  it('check_http against a local server: 200 is HEALTHY with time and size, 500 is plugin_critical', async () => {
    const server = await httpServer((req, res) => {
      res.statusCode = req.url === '/fail' ? 500 : 200;
      res.end('hello from the test server');
    });
    cleanups.push(() => server.close());
    const args = [plugin('check_http'), '-H', '{{host}}', '-p', '{{port}}', '-t', '5'];
    const ok = await check({ command: [...args, '-u', '/'] }, server.address);
    expect(ok).toMatchObject({ status: 'HEALTHY', reason: 'ok' });
    expect(ok.output).toMatch(/^HTTP OK: HTTP\/1\.1 200 OK/);
    expect(ok.metrics?.time).toBeGreaterThanOrEqual(0);
    expect(ok.metrics?.size).toBeGreaterThan(0);

    const bad = await check({ command: [...args, '-u', '/fail'] }, server.address);
    expect(bad).toMatchObject({ status: 'UNHEALTHY', reason: 'plugin_critical' });
    expect(bad.output).toMatch(/^HTTP CRITICAL: HTTP\/1\.1 500/);
    expect(server.requests.map((q) => q.url)).toEqual(['/', '/fail']);
  });

  it('check_disk on / reports the used bytes of / as metric root (B unit)', async () => {
    const r = await check({ command: [plugin('check_disk'), '-w', '1%', '-c', '0%', '-p', '/'] });
    expect(r.status).not.toBe('UNKNOWN');
    expect(r.output).toMatch(/^DISK (OK|WARNING|CRITICAL)/);
    expect(r.metrics?.root).toBeGreaterThan(0);
    expect(Number.isInteger(r.metrics?.root)).toBe(true);
  });

  it('runs 8 plugins at once on one runner, each with its own result, none left running', async () => {
    const exec = runner({ command: [plugin('check_dummy'), '0', 'parallel'] });
    const results = await Promise.all(Array.from({ length: 8 }, () => attempt(exec, 10_000)));
    for (const r of results) expect(r).toMatchObject({ status: 'HEALTHY', output: 'OK: parallel' });
  });

  it('runs a shell command with shell: true, placeholders shell-safe, perfdata in ms normalised to seconds', async () => {
    const r = await check({ shell: true, command: ['echo "WARNING {{host}} port {{port}} | t=5ms;10;20"; exit 1'] }, '127.0.0.1:8080');
    expect(r).toMatchObject({ status: 'DEGRADED', reason: 'plugin_warning', output: 'WARNING 127.0.0.1 port 8080' });
    expect(r.metrics).toEqual({ t: 0.005 });
  });

  it('passes only PATH, HOME, LANG and env unless inherit_env', async () => {
    process.env.HEALTHMESH_TEST_SECRET = 'leak';
    cleanups.push(() => {
      delete process.env.HEALTHMESH_TEST_SECRET;
    });
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the text shows a shell expansion, for the shell to do
    const cmd = ['/bin/sh', '-c', 'echo "OK foo=$FOO secret=$HEALTHMESH_TEST_SECRET path=${PATH:+set}"'];
    const plain = await check({ command: cmd, env: { FOO: 'bar' } });
    expect(plain.output).toBe('OK foo=bar secret= path=set');
    const inherited = await check({ command: cmd, env: { FOO: 'bar' }, inherit_env: true });
    expect(inherited.output).toBe('OK foo=bar secret=leak path=set');
  });

  it('runs in cwd when set', async () => {
    const r = await check({ command: ['/bin/pwd'], cwd: tmp });
    expect(r.output).toBe(tmp);
  });

  it('maps other exit codes to plugin_unknown and shows stderr when stdout is empty', async () => {
    const r = await check({ command: ['/bin/sh', '-c', 'echo "boom: config missing" >&2; exit 42'] });
    expect(r).toMatchObject({ status: 'UNKNOWN', reason: 'plugin_unknown', output: 'boom: config missing (exit code 42)' });
  });

  it('reports a plugin killed by a signal as exec_failed', async () => {
    const r = await check({ command: ['/bin/sh', '-c', 'echo "OK so far"; kill -KILL $$'] });
    expect(r).toMatchObject({ status: 'UNKNOWN', reason: 'exec_failed' });
    expect(r.output).toMatch(/killed by SIGKILL/);
  });

  it('reports an invalid placeholder use as a config error on every run', async () => {
    const noPort = await check({ command: ['x', '{{port}}'] }, 'db.internal');
    expect(noPort).toMatchObject({ status: 'UNKNOWN', reason: 'error' });
    expect(noPort.output).toContain('has no port');
    const unknown = await check({ command: ['x', '{{hots}}'] });
    expect(unknown.output).toContain('unknown placeholder {{hots}}');
  });

  it('refuses shell: true with more than one element, and an empty program', () => {
    expect(execCheckSchema.safeParse({ kind: 'exec', shell: true, command: ['a', 'b'] }).success).toBe(false);
    expect(execCheckSchema.safeParse({ kind: 'exec', command: [] }).success).toBe(false);
    expect(execCheckSchema.safeParse({ kind: 'exec', command: [''] }).success).toBe(false);
  });
});

describe('exec check against hostile commands', () => {
  it('a command that does not exist is exec_failed with a clear message, no fd left open', async () => {
    const baseline = openFds();
    const r = await check({ command: ['/nonexistent/check_nothing', '-v'] });
    expect(r).toMatchObject({ status: 'UNKNOWN', reason: 'exec_failed' });
    expect(r.output).toBe('cannot run /nonexistent/check_nothing: not found (ENOENT)');
    const bare = await check({ command: ['check_not_on_path_anywhere'] });
    expect(bare.output).toContain('not found (ENOENT)');
    expect(await settleFds(baseline)).toBeLessThanOrEqual(baseline);
  });

  it('a file that is not executable is exec_failed (EACCES)', async () => {
    const file = join(tmp, 'not-executable.sh');
    writeFileSync(file, '#!/bin/sh\necho OK\n');
    chmodSync(file, 0o644);
    const r = await check({ command: [file] });
    expect(r).toMatchObject({ status: 'UNKNOWN', reason: 'exec_failed' });
    expect(r.output).toContain('permission denied (EACCES)');
  });

  it('a plugin ignoring SIGTERM with a forked child times out at once; SIGKILL after the grace leaves no process', async () => {
    const baseline = openFds();
    const pidFile = join(tmp, 'pids-timeout');
    const grace = 1000;
    const exec = runner({ command: ['/bin/bash', join(FIXTURES, 'ignore-term.sh'), pidFile], kill_grace: grace });
    const r = await attempt(exec, 800);
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'timeout' });
    // Resolved at the abort, not after the grace.
    expect(r.elapsedMs).toBeLessThan(800 + 400);
    expect(r.output).toMatch(/^bash timed out after [\d.]+ ms; SIGTERM sent to its process group \(SIGKILL after 1000 ms if still alive\)$/);

    const [leader, child] = (await waitForFile(pidFile, 2000)).trim().split(/\s+/).map(Number) as [number, number];
    expect(leader).toBeGreaterThan(1);
    expect(child).toBeGreaterThan(1);
    // Both ignore SIGTERM: still alive right after the abort.
    expect(isDead(leader) || isDead(child)).toBe(false);

    const gone = await waitUntil(() => isDead(leader) && isDead(child), grace + 1000);
    expect(gone, `pids ${leader} ${child} states ${procState(leader)} ${procState(child)}`).toBe(true);
    // The leader is our child: Node reaps it, no zombie stays behind.
    expect(await waitUntil(() => procState(leader) === undefined, 1000)).toBe(true);
    expect(await settleFds(baseline)).toBeLessThanOrEqual(baseline);
  }, 15_000);

  it('close() waits for the kill sequence of a timed-out plugin to finish', async () => {
    const pidFile = join(tmp, 'pids-close');
    const exec = runner({ command: ['/bin/bash', join(FIXTURES, 'ignore-term.sh'), pidFile], kill_grace: '600ms' });
    const r = await attempt(exec, 500);
    expect(r.reason).toBe('timeout');
    const [leader, child] = (await waitForFile(pidFile, 2000)).trim().split(/\s+/).map(Number) as [number, number];
    const t0 = Date.now();
    await exec.close?.();
    const waited = Date.now() - t0;
    expect(waited).toBeGreaterThan(300);
    expect(waited).toBeLessThan(600 + 1500);
    expect(procState(leader)).toBeUndefined();
    // SIGKILL went out before close() resolved; the kernel takes a moment to finish the child.
    expect(await waitUntil(() => isDead(child), 500)).toBe(true);
  }, 15_000);

  it('close() during a run ends it as aborted and kills the process group', async () => {
    const pidFile = join(tmp, 'pids-closing');
    const exec = runner({ command: ['/bin/bash', join(FIXTURES, 'ignore-term.sh'), pidFile], kill_grace: '200ms' });
    const pending = attempt(exec, 10_000);
    const [leader, child] = (await waitForFile(pidFile, 3000)).trim().split(/\s+/).map(Number) as [number, number];
    await exec.close?.();
    const r = await pending;
    expect(r).toMatchObject({ status: 'UNKNOWN', reason: 'aborted' });
    expect(procState(leader)).toBeUndefined();
    // SIGKILL went out before close() resolved; the kernel takes a moment to finish the child.
    expect(await waitUntil(() => isDead(child), 500)).toBe(true);
  }, 15_000);

  it('a plugin printing 10 MiB keeps max_output_bytes, drains the rest and finishes', async () => {
    const baseline = openFds();
    const heap0 = process.memoryUsage().heapUsed;
    const r = await check({ command: [join(FIXTURES, 'big-output.sh')], max_output_bytes: 64 * 1024 }, undefined, 20_000);
    expect(r).toMatchObject({ status: 'HEALTHY', reason: 'ok', metrics: { lines: 1 } });
    const total = 'OK big output|lines=1;;;0;\n'.length + 10 * 1024 * 1024;
    expect(r.output).toBe(`OK big output [stdout cut at 65536 of ${total} bytes]`);
    // Loose: the 10 MiB never sat in memory at once.
    expect(process.memoryUsage().heapUsed - heap0).toBeLessThan(8 * 1024 * 1024);
    expect(await settleFds(baseline)).toBeLessThanOrEqual(baseline);
  }, 30_000);

  it('a plugin that exits but leaves a child holding its stdout gets the child killed and still reports', async () => {
    const pidFile = join(tmp, 'pid-lingering');
    const r = await check({
      command: ['/bin/sh', '-c', `sleep 1000 & echo $! > ${pidFile}; echo "OK done | a=1"; exit 0`],
      kill_grace: '300ms',
    });
    expect(r).toMatchObject({ status: 'HEALTHY', output: 'OK done', metrics: { a: 1 } });
    const child = Number(readFileSync(pidFile, 'utf8'));
    expect(await waitUntil(() => isDead(child), 2000)).toBe(true);
    expect(r.elapsedMs).toBeLessThan(3000);
  }, 15_000);
});
