import { copyFileSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realClock } from '../../src/core/clock.js';
import { startProxy, type RunningProxy } from '../../src/proxy/proxy.js';
import { proxyConfig, RoundRobin, startUpstream, upstreamsOf, type Upstream } from '../proxy/helpers.js';
import { makeCa, makeCert, type CertFiles } from './certs.js';
import { tempDir } from './harness.js';

function get(port: number, ca: string, client?: CertFiles): Promise<{ status: number; body: string; serial: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/x',
        agent: false,
        ca: readFileSync(ca),
        ...(client ? { cert: readFileSync(client.cert), key: readFileSync(client.key) } : {}),
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, serial: (res.socket as TLSSocket).getPeerCertificate().serialNumber }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('proxy.tls', () => {
  let dir: string;
  let ca: CertFiles;
  let upstream: Upstream;
  let proxy: RunningProxy;
  let live: CertFiles;
  let client: CertFiles;
  const logs: string[] = [];

  beforeAll(async () => {
    dir = tempDir('hm-ptls-');
    ca = makeCa(dir, 'ca');
    const server = makeCert(dir, ca, 'server');
    client = makeCert(dir, ca, 'client', { client: true });
    live = { cert: join(dir, 'live.pem'), key: join(dir, 'live.key') };
    copyFileSync(server.cert, live.cert);
    copyFileSync(server.key, live.key);
    upstream = await startUpstream((req, res) => res.end(`proto=${req.headers['x-forwarded-proto']}`));
    const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(line) });
    const config = proxyConfig({ routes: [{ path_prefix: '/', service: 's' }], tls: { cert: live.cert, key: live.key, client_ca: ca.cert } });
    proxy = await startProxy({ config, upstreams: upstreamsOf({ s: new RoundRobin([{ id: 'u', address: upstream.address }]) }), clock: realClock, logger });
  });
  afterAll(async () => {
    await proxy?.close();
    await upstream?.close();
  });

  it('serves HTTPS with mTLS, tells the upstream the request came over https, and reloads its pair', async () => {
    const port = proxy.address.port;
    const first = await get(port, ca.cert, client);
    expect(first).toMatchObject({ status: 200, body: 'proto=https' });
    await expect(get(port, ca.cert)).rejects.toThrow();
    expect(logs.some((l) => l.includes('the lean engine speaks plain HTTP only'))).toBe(true);

    const next = makeCert(dir, ca, 'server-next');
    copyFileSync(next.cert, live.cert);
    copyFileSync(next.key, live.key);
    expect(proxy.reloadTls()).toBe(true);
    expect((await get(port, ca.cert, client)).serial).not.toBe(first.serial);
  });
});
