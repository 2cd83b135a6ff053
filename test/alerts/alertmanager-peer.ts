/**
 * A real Prometheus Alertmanager (Debian's prometheus-alertmanager) started
 * by a test on a free loopback port, with a temp storage path, clustering
 * off, and a route that forwards to `webhookUrl` (send_resolved) so a test
 * sees what Alertmanager itself sends. A missing binary fails, never skips.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/prometheus.js';

export interface RunningAlertmanager {
  url: string;
  output(): string;
  stop(): Promise<void>;
  close(): Promise<void>;
}

const BINARY = 'prometheus-alertmanager';

export async function startAlertmanager(webhookUrl: string): Promise<RunningAlertmanager> {
  const dir = mkdtempSync(join(tmpdir(), 'healthmesh-am-'));
  const config = [
    'route:',
    '  receiver: hook',
    '  group_by: [alertname]',
    '  group_wait: 100ms',
    '  group_interval: 1s',
    '  repeat_interval: 1h',
    'receivers:',
    '  - name: hook',
    '    webhook_configs:',
    `      - url: ${JSON.stringify(webhookUrl)}`,
    '        send_resolved: true',
    '',
  ].join('\n');
  writeFileSync(join(dir, 'am.yml'), config);
  for (let tries = 1; ; tries++) {
    const port = await freePort();
    try {
      return await launch(dir, port);
    } catch (err) {
      if (tries >= 3 || !/address already in use/i.test(String(err))) {
        rmSync(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }
}

async function launch(dir: string, port: number): Promise<RunningAlertmanager> {
  const child: ChildProcess = spawn(
    BINARY,
    [
      `--config.file=${join(dir, 'am.yml')}`,
      `--storage.path=${join(dir, `data-${port}`)}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=info',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d));
  child.stderr!.on('data', (d: Buffer) => (log += d));
  let spawnError: Error | null = null;
  child.once('error', (err: NodeJS.ErrnoException) => {
    spawnError = err.code === 'ENOENT' ? new Error(`${BINARY} not found: run scripts/install-test-peers.sh (apt-get install prometheus-alertmanager)`) : err;
  });
  const gone = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (spawnError) throw spawnError;
    if (child.exitCode !== null) throw new Error(`alertmanager exited (code ${child.exitCode}):\n${log}`);
    try {
      const res = await fetch(`${url}/-/ready`);
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`alertmanager not ready after 20 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url, output: () => log, stop, close: stop };
}
