import { copyFileSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCa, makeCert, type CertFiles } from './certs.js';
import { secureDaemon, tempDir, type SecureDaemon } from './harness.js';

/** GET over HTTPS with a fresh connection: the status, the server certificate's serial and the body's first bytes. */
function get(port: number, path: string, tls: { ca: string; client?: CertFiles }): Promise<{ status: number; serial: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        agent: false,
        ca: readFileSync(tls.ca),
        ...(tls.client ? { cert: readFileSync(tls.client.cert), key: readFileSync(tls.client.key) } : {}),
        timeout: 5000,
      },
      (res) => {
        const serial = (res.socket as import('node:tls').TLSSocket).getPeerCertificate().serialNumber;
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c.toString();
          // An event stream never ends: its first bytes are enough.
          if (path.endsWith('/events')) res.destroy();
        });
        const done = () => resolve({ status: res.statusCode ?? 0, serial, body });
        res.on('end', done);
        res.on('close', done);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

let dir: string;
let ca: CertFiles;
let otherCa: CertFiles;
let server: CertFiles;
let client: CertFiles;

beforeAll(() => {
  dir = tempDir('hm-tls-');
  ca = makeCa(dir, 'ca');
  otherCa = makeCa(dir, 'other-ca');
  server = makeCert(dir, ca, 'server');
  client = makeCert(dir, ca, 'client', { client: true });
});

const config = (tls: string) => `
server: { listen: "127.0.0.1:0", tls: ${tls} }
storage: { path: "$DIR/h.db" }
metrics: { protect: false }
services: { api: { instances: [{ id: a1, address: "127.0.0.1:9" }], checks: [{ kind: ttl, ttl: 1h }] } }
`;

describe('server.tls', () => {
  let s: SecureDaemon;
  let live: CertFiles;
  beforeAll(async () => {
    // The daemon reads the pair from paths that the reload test overwrites.
    const d = tempDir('hm-tls-live-');
    live = { cert: join(d, 'live.pem'), key: join(d, 'live.key') };
    copyFileSync(server.cert, live.cert);
    copyFileSync(server.key, live.key);
    s = await secureDaemon(config(`{ cert: "${live.cert}", key: "${live.key}", min_version: TLSv1.2 }`));
  });
  afterAll(async () => s?.stop());

  it('serves the API, /metrics and the event stream over HTTPS only', async () => {
    const port = s.daemon.address.port;
    expect((await get(port, '/livez', { ca: ca.cert })).status).toBe(200);
    const metrics = await get(port, '/metrics', { ca: ca.cert });
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('healthmesh_');
    const events = await get(port, '/api/v1/events', { ca: ca.cert });
    expect(events.status).toBe(200);
    expect(events.body).toContain('retry:');
    // Plain HTTP to the TLS port gets no answer of the API.
    const plain = await fetch(`http://127.0.0.1:${port}/livez`).then(
      (r) => r.status,
      (err: Error) => err.message,
    );
    expect(plain).not.toBe(200);
    // A client that does not trust the CA refuses the server.
    await expect(get(port, '/livez', { ca: otherCa.cert })).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
    expect(s.logs.some((l) => l.includes(`serving https://127.0.0.1:${port}`))).toBe(true);
  });

  it('takes a new pair on reload (SIGHUP) for new connections, and keeps the old one when the new pair is bad, saying why', async () => {
    const port = s.daemon.address.port;
    const before = (await get(port, '/livez', { ca: ca.cert })).serial;
    const next = makeCert(dir, ca, 'server-next');
    copyFileSync(next.cert, live.cert);
    copyFileSync(next.key, live.key);
    await s.daemon.reload();
    const after = (await get(port, '/livez', { ca: ca.cert })).serial;
    expect(after).not.toBe(before);
    expect(s.logs.some((l) => l.includes('certificate reloaded'))).toBe(true);

    // A certificate whose key is another's: not used.
    copyFileSync(server.cert, live.cert);
    await s.daemon.reload();
    expect((await get(port, '/livez', { ca: ca.cert })).serial).toBe(after);
    expect(s.logs.some((l) => l.includes('the new certificate is not used') && l.includes('is not the key of the certificate'))).toBe(true);

    // An expired one: not used either.
    const expired = makeCert(dir, ca, 'server-expired', { days: -1 });
    copyFileSync(expired.cert, live.cert);
    copyFileSync(expired.key, live.key);
    await s.daemon.reload();
    expect((await get(port, '/livez', { ca: ca.cert })).serial).toBe(after);
    expect(s.logs.some((l) => l.includes('the new certificate is not used') && l.includes('expired on'))).toBe(true);
  });
});

describe('server.tls with client_ca (mTLS)', () => {
  let s: SecureDaemon;
  beforeAll(async () => {
    s = await secureDaemon(config(`{ cert: "${server.cert}", key: "${server.key}", client_ca: "${ca.cert}" }`));
  });
  afterAll(async () => s?.stop());

  it('answers a client with a certificate of the CA', async () => {
    expect((await get(s.daemon.address.port, '/api/v1/services', { ca: ca.cert, client })).status).toBe(200);
  });

  it('refuses a client without a certificate, with one of another CA, and with an expired one', async () => {
    const port = s.daemon.address.port;
    const wrong = makeCert(dir, otherCa, 'client-other', { client: true });
    const expired = makeCert(dir, ca, 'client-expired', { client: true, days: -1 });
    for (const [what, clientCert] of [
      ['none', undefined],
      ['other CA', wrong],
      ['expired', expired],
    ] as const) {
      const outcome = await get(port, '/api/v1/services', { ca: ca.cert, ...(clientCert ? { client: clientCert } : {}) }).then(
        (r) => `answered ${r.status}`,
        (err: Error) => `refused: ${err.message}`,
      );
      expect(outcome, what).toMatch(/^refused/);
    }
  });
});

describe('a bad server.tls at start', () => {
  it('stops the start with the field and the reason', async () => {
    const expired = makeCert(dir, ca, 'start-expired', { days: -1 });
    await expect(secureDaemon(config(`{ cert: "${expired.cert}", key: "${expired.key}" }`))).rejects.toThrow(/server\.tls\.cert: .* expired on/);
    await expect(secureDaemon(config(`{ cert: "${server.cert}", key: "${client.key}" }`))).rejects.toThrow(
      /server\.tls\.key: .* is not the key of the certificate/,
    );
    await expect(secureDaemon(config(`{ cert: "${dir}/missing.pem", key: "${server.key}" }`))).rejects.toThrow(
      /server\.tls\.cert: cannot read .*missing\.pem \(ENOENT\)/,
    );
  });
});
