import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { runCli, startCli, stopMs } from '../helpers/spawn.js';
import { waitFor, within } from '../helpers/wait.js';

const { cleanups } = useCleanups();

/** An upstream answering `name url`; /slow only after `slowMs` (calling onSlow when it arrives). */
async function upstream(name: string, slowMs = 0, onSlow = (): void => {}): Promise<number> {
  const server = createServer((req, res) => {
    if (req.url === '/slow') {
      onSlow();
      setTimeout(() => res.end(`${name} slow`), slowMs);
    } else res.end(req.url === '/health' ? 'ok' : `${name} ${req.url}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return (server.address() as { port: number }).port;
}

function writeConfig(body: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'hm-proxy-'));
  const file = join(dir, 'hm.yaml');
  writeFileSync(file, body.replaceAll('$DIR', dir));
  return file;
}

/** The address a JSON log line with this message prefix reports as `listen`. */
function listenFrom(output: string, prefix: string): string | undefined {
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { msg?: string; listen?: string };
    if (entry.msg?.startsWith(prefix)) return entry.listen;
  }
  return undefined;
}

/** `healthmesh proxy` on a config with service `api` at 127.0.0.1:port and `proxyLines` under proxy:; resolves once its instance is in rotation. */
async function startProxyCli(port: number, proxyLines: string) {
  const file = writeConfig(`server: { listen: "127.0.0.1:0" }
log: { format: json }
storage: { path: "$DIR/hm.db" }
defaults: { interval: 200ms, timeout: 500ms, rise: 1, fall: 1 }
services:
  api:
    instances: [{ id: u1, address: "127.0.0.1:${port}" }]
    checks: [{ kind: http, path: /health }]
proxy:
  listen: "127.0.0.1:0"
${proxyLines}
`);
  const { child, output } = startCli(['proxy', '--config', file]);
  cleanups.push(() => void child.kill('SIGKILL'));
  await waitFor(() => listenFrom(output(), 'proxy serving') !== undefined, { timeoutMs: 10_000, what: 'the proxy to listen' });
  const proxy = listenFrom(output(), 'proxy serving')!;
  const admin = listenFrom(output(), 'healthmesh')!;
  // Until the first check passes every instance is UNKNOWN and the balancer is in panic; wait for the check.
  await waitFor(
    async () => {
      const state = (await fetch(`http://${admin}/api/v1/services/api/balancer`).then((r) => r.json())) as {
        instances: { usable?: boolean }[];
        panic: boolean;
      };
      return state.instances[0]?.usable === true && state.panic === false;
    },
    { timeoutMs: 10_000, what: 'the instance to be usable and the balancer out of panic' },
  );
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, proxy, admin, exited, output };
}

describe('healthmesh proxy', () => {
  it('routes by path prefix to healthy instances, shows the balancer, stops within a second on SIGTERM', async () => {
    const port = await upstream('u1');
    const { child, proxy, exited, output } = await startProxyCli(port, '  routes: [{ path_prefix: /api, service: api, strip_prefix: true }]');
    expect(await fetch(`http://${proxy}/api/hello`).then((r) => r.text())).toBe('u1 /hello');
    const unrouted = await fetch(`http://${proxy}/other`);
    expect(unrouted.status).toBe(404);
    expect(await unrouted.json()).toMatchObject({ error: 'no_route', path: '/other' });
    child.kill('SIGTERM');
    expect(await within(exited, 10_000, 'the proxy to exit on SIGTERM')).toBe(0);
    // Timed inside the process (see cli.test.ts): a stop cut by the guard logs no "stopped" line.
    expect(stopMs(output())).toBeLessThan(1000);
  });

  it('on SIGTERM lets the request in flight finish (Connection: close), then exits 0', async () => {
    let atUpstream = (): void => {};
    const arrived = new Promise<void>((r) => (atUpstream = r));
    const port = await upstream('u1', 700, () => atUpstream());
    const { child, proxy, exited } = await startProxyCli(port, '  drain_timeout: 5s\n  routes: [{ path_prefix: /, service: api }]');
    const slow = fetch(`http://${proxy}/slow`);
    await arrived;
    child.kill('SIGTERM');
    const res = await slow;
    expect(res.status).toBe(200);
    expect(res.headers.get('connection')).toBe('close');
    expect(await res.text()).toBe('u1 slow');
    expect(await exited).toBe(0);
  });

  it('refuses a config without a proxy: section, naming it, exit 1', async () => {
    const file = writeConfig('services: {}\n');
    const r = await runCli(['proxy', '--config', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no proxy: section');
  });

  it('rejects a route to an unknown service with the line of the mistake', async () => {
    const file = writeConfig('services: {}\nproxy:\n  routes: [{ path_prefix: /a, service: ghost }]\n');
    const r = await runCli(['proxy', '--config', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/proxy\.routes\[0\]\.service.*no service named "ghost"/);
  });
});
