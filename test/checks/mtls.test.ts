import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRunner } from '../../src/checks/index.js';
import { specFromTarget } from '../../src/cli/check-target.js';
import type { CheckSpec } from '../../src/core/check.js';
import { isUsageError } from '../../src/core/errors.js';
import { grpcCheckSchema } from '../../src/config/kinds/grpc.js';
import { httpCheckSchema } from '../../src/config/schema.js';
import { attempt, checkDeps, type TimedOutcome } from '../helpers/run-check.js';
import { grpcSpec, httpSpec, type GrpcInput, type HttpInput } from '../helpers/spec.js';
import { makeCa, makeCert, type CertFiles } from '../security/certs.js';
import { tempDir } from '../security/harness.js';

/**
 * Client certificates (mTLS) on the http and grpc checks, against a real
 * https server and a real grpc-js health server on 127.0.0.1 that both
 * require a client certificate signed by their CA. Certificates are made
 * with the openssl CLI in a temp dir.
 */

let dir: string;
let ca: CertFiles;
let client: CertFiles;
/** A client certificate signed by another CA: the servers must refuse it. */
let stranger: CertFiles;
let https: HttpsServer;
let httpsAddress: string;
let grpcServer: Server;
let grpcAddress: string;
/** Requests that reached the https handler (only ones with an accepted client certificate do). */
let httpsHits = 0;

beforeAll(async () => {
  dir = tempDir('hm-mtls-');
  ca = makeCa(dir, 'ca');
  const server = makeCert(dir, ca, 'server');
  client = makeCert(dir, ca, 'client', { client: true });
  const otherCa = makeCa(dir, 'other-ca');
  stranger = makeCert(dir, otherCa, 'stranger', { client: true });

  https = createServer(
    { key: readFileSync(server.key), cert: readFileSync(server.cert), ca: readFileSync(ca.cert), requestCert: true, rejectUnauthorized: true },
    (_req, res) => {
      httpsHits++;
      res.end('ok');
    },
  );
  await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
  httpsAddress = `127.0.0.1:${(https.address() as AddressInfo).port}`;

  grpcServer = new Server();
  new HealthImplementation({ '': 'SERVING' }).addToServer(grpcServer);
  const creds = ServerCredentials.createSsl(readFileSync(ca.cert), [{ private_key: readFileSync(server.key), cert_chain: readFileSync(server.cert) }], true);
  const port = await new Promise<number>((resolve, reject) => grpcServer.bindAsync('127.0.0.1:0', creds, (err, p) => (err ? reject(err) : resolve(p))));
  grpcAddress = `127.0.0.1:${port}`;
});

afterAll(async () => {
  grpcServer?.forceShutdown();
  https?.closeAllConnections();
  await new Promise((resolve) => https?.close(resolve));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Builds the runner the way the daemon does (createRunner), runs it twice (the second run reuses what it kept), closes it. */
async function twice(spec: CheckSpec): Promise<TimedOutcome[]> {
  const runner = createRunner(spec, checkDeps());
  try {
    return [await attempt(runner, 3000), await attempt(runner, 3000)];
  } finally {
    await runner.close?.();
  }
}

const pair = (files: CertFiles) => ({ cert_file: files.cert, key_file: files.key });

describe.each([
  ['kept connections (reuse_connections: true)', true],
  ['a new connection per run (reuse_connections: false)', false],
])('http check on an https target that requires a client certificate, %s', (_name, reuse) => {
  const spec = (input: HttpInput) => httpSpec(httpsAddress, { scheme: 'https', ca_file: ca.cert, reuse_connections: reuse, ...input }, 3000);

  it('is HEALTHY with a client certificate signed by the server CA', async () => {
    const before = httpsHits;
    const results = await twice(spec({ client_cert: pair(client) }));
    for (const r of results) expect(r, r.output).toMatchObject({ status: 'HEALTHY' });
    expect(httpsHits - before).toBe(2);
  });

  it('is UNHEALTHY (tls) without a client certificate, and the request never reaches the handler', async () => {
    const before = httpsHits;
    for (const r of await twice(spec({}))) {
      expect(r.status).toBe('UNHEALTHY');
      expect(r.reason, r.output).toBe('tls');
    }
    expect(httpsHits).toBe(before);
  });

  it('is UNHEALTHY (tls) with a client certificate from another CA', async () => {
    const before = httpsHits;
    for (const r of await twice(spec({ client_cert: pair(stranger) }))) {
      expect(r.status).toBe('UNHEALTHY');
      expect(r.reason, r.output).toBe('tls');
    }
    expect(httpsHits).toBe(before);
  });
});

describe('grpc check on a TLS target that requires a client certificate', () => {
  const spec = (input: GrpcInput) => grpcSpec(grpcAddress, { tls: true, ca_file: ca.cert, tls_server_name: 'localhost', ...input }, 3000);

  it('is HEALTHY with a client certificate signed by the server CA, in check and watch mode', async () => {
    for (const mode of ['check', 'watch'] as const) {
      const runner = createRunner(spec({ client_cert: pair(client), mode }), checkDeps());
      try {
        const r = await attempt(runner, 3000);
        expect(r, `${mode}: ${r.output}`).toMatchObject({ status: 'HEALTHY' });
      } finally {
        await runner.close?.();
      }
    }
  });

  it('is UNHEALTHY (tls) without a client certificate or with one from another CA', async () => {
    for (const input of [{}, { client_cert: pair(stranger) }]) {
      for (const r of await twice(spec(input))) {
        expect(r.status, JSON.stringify(input)).toBe('UNHEALTHY');
        expect(r.reason, r.output).toBe('tls');
      }
    }
  });
});

describe('client_cert files are read when the check is built', () => {
  it('names the field of a file it cannot read, a file without PEM and a key that does not fit, as UNKNOWN error on every run', async () => {
    const notPem = join(dir, 'not-pem.txt');
    writeFileSync(notPem, 'hello');
    const cases: Array<[HttpInput['client_cert'], RegExp]> = [
      [{ cert_file: client.cert, key_file: join(dir, 'missing.key') }, /client_cert\.key_file: cannot read .*missing\.key/],
      [{ cert_file: join(dir, 'missing.pem'), key_file: client.key }, /client_cert\.cert_file: cannot read .*missing\.pem/],
      [{ cert_file: notPem, key_file: client.key }, /client_cert\.cert_file: .*not-pem\.txt holds no PEM block/],
      [{ cert_file: client.cert, key_file: stranger.key }, /client_cert: .* are not a usable certificate and key/],
    ];
    for (const [clientCert, message] of cases) {
      const http = await twice(httpSpec(httpsAddress, { scheme: 'https', ca_file: ca.cert, client_cert: clientCert }, 3000));
      const grpc = await twice(grpcSpec(grpcAddress, { tls: true, ca_file: ca.cert, tls_server_name: 'localhost', client_cert: clientCert }, 3000));
      for (const r of [...http, ...grpc]) {
        expect(r.status).toBe('UNKNOWN');
        expect(r.reason).toBe('error');
        expect(r.output).toMatch(message);
      }
    }
  });

  it('reads them once: removing the files after the check is built changes nothing', async () => {
    const sub = tempDir('hm-mtls-copy-');
    try {
      const copy = { cert_file: join(sub, 'c.pem'), key_file: join(sub, 'c.key') };
      writeFileSync(copy.cert_file, readFileSync(client.cert));
      writeFileSync(copy.key_file, readFileSync(client.key));
      const runner = createRunner(httpSpec(httpsAddress, { scheme: 'https', ca_file: ca.cert, client_cert: copy }, 3000), checkDeps());
      try {
        rmSync(sub, { recursive: true, force: true });
        expect((await attempt(runner, 3000)).status).toBe('HEALTHY');
      } finally {
        await runner.close?.();
      }
    } finally {
      rmSync(sub, { recursive: true, force: true });
    }
  });

  it('refuses client_cert and ca_file where they would be ignored: plain http without redirects, grpc without tls', () => {
    const paths = (r: { error?: { issues: Array<{ path: PropertyKey[] }> } }) => r.error?.issues.map((i) => i.path.join('.'));
    const cc = { cert_file: '/c.pem', key_file: '/c.key' };
    expect(paths(httpCheckSchema.safeParse({ kind: 'http', client_cert: cc, ca_file: '/ca.pem' }))).toEqual(['ca_file', 'client_cert']);
    expect(paths(httpCheckSchema.safeParse({ kind: 'http', url: 'http://a:1/', client_cert: cc }))).toEqual(['client_cert']);
    expect(httpCheckSchema.safeParse({ kind: 'http', url: 'https://a:1/', client_cert: cc }).success).toBe(true);
    expect(httpCheckSchema.safeParse({ kind: 'http', client_cert: cc, follow_redirects: 1 }).success).toBe(true);
    expect(paths(httpCheckSchema.safeParse({ kind: 'http', scheme: 'https', client_cert: { cert_file: '/c.pem' } }))).toEqual(['client_cert.key_file']);
    expect(paths(grpcCheckSchema.safeParse({ kind: 'grpc', client_cert: cc }))).toEqual(['client_cert']);
    expect(grpcCheckSchema.safeParse({ kind: 'grpc', tls: true, client_cert: cc }).success).toBe(true);
  });
});

describe('healthmesh check --cert --key --cacert', () => {
  const options = { timeout: '3s' };

  it('checks an mTLS https and grpcs target HEALTHY with them, UNHEALTHY tls without', async () => {
    const withCert = { ...options, cacert: ca.cert, cert: client.cert, key: client.key };
    for (const target of [`https://${httpsAddress}/`, `grpcs://localhost:${grpcAddress.split(':')[1]}`]) {
      const ok = await twice(specFromTarget(target, withCert));
      expect(ok[0]?.status, `${target}: ${ok[0]?.output}`).toBe('HEALTHY');
      const refused = await twice(specFromTarget(target, { ...options, cacert: ca.cert }));
      expect(refused[0], target).toMatchObject({ status: 'UNHEALTHY', reason: 'tls' });
    }
  });

  it('says which option is missing or misplaced', () => {
    const message = (target: string, opts: object) => {
      try {
        specFromTarget(target, { ...options, ...opts });
      } catch (err) {
        if (isUsageError(err)) return err.message;
        throw err;
      }
      return 'accepted';
    };
    expect(message('https://127.0.0.1:1/', { cert: '/c.pem' })).toBe('--cert needs --key too (a client certificate and its key)');
    expect(message('https://127.0.0.1:1/', { key: '/c.key' })).toBe('--key needs --cert too (a client certificate and its key)');
    expect(message('grpc://127.0.0.1:1', { cert: '/c.pem', key: '/c.key' })).toBe('--cert/--key: only used with tls: true');
    expect(message('http://127.0.0.1:1/', { cacert: '/ca.pem' })).toMatch(/^--cacert: only used with https/);
  });
});
