import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secureDaemon, type SecureDaemon } from './harness.js';

/**
 * A run-time registration cannot name files on the daemon's host: ca_file
 * and client_cert (its cert_file and key_file) come only from the config
 * file, or a registration could make the daemon read and send any key it can read.
 */

const TOKEN = 'token-w-0123456789abcdef';

let s: SecureDaemon;
beforeAll(async () => {
  s = await secureDaemon(`
server: { listen: "127.0.0.1:0", tokens: [{ name: w, token: "${TOKEN}", scopes: [write] }] }
storage: { path: "$DIR/h.db" }
defaults: { interval: 1h }
services: {}
`);
});
afterAll(async () => s?.stop());

async function register(body: unknown): Promise<{ status: number; message: string }> {
  const res = await s.daemon.server.inject({
    method: 'POST',
    url: '/api/v1/instances',
    headers: { authorization: `Bearer ${TOKEN}` },
    payload: body as object,
  });
  return { status: res.statusCode, message: res.statusCode >= 400 ? (res.json() as { message: string }).message : '' };
}

describe('registrations and TLS files', () => {
  it('refuses client_cert and ca_file on http and grpc checks with 403 naming the field and the rule', async () => {
    const clientCert = { cert_file: '/etc/healthmesh/client.pem', key_file: '/etc/healthmesh/client.key' };
    const cases: Array<[unknown, string]> = [
      [{ kind: 'http', scheme: 'https', client_cert: clientCert }, 'checks[1].client_cert'],
      [{ kind: 'http', scheme: 'https', ca_file: '/etc/ssl/ca.pem' }, 'checks[1].ca_file'],
      [{ kind: 'grpc', tls: true, client_cert: clientCert }, 'checks[1].client_cert'],
      [{ kind: 'grpc', tls: true, ca_file: '/etc/ssl/ca.pem' }, 'checks[1].ca_file'],
    ];
    for (const [check, field] of cases) {
      const res = await register({ service: 'web', id: 'x', address: '10.0.0.9:443', checks: [{ kind: 'tcp' }, check] });
      expect(res.status, JSON.stringify(check)).toBe(403);
      expect(res.message).toBe(`${field}: reads a file on the daemon's host; set it in the config file (rule: registration check files)`);
    }
    expect(s.daemon.registry.instance('web/x')).toBeUndefined();
  });

  it('takes the same checks without the files', async () => {
    const res = await register({
      service: 'web',
      id: 'y',
      address: '10.0.0.9:443',
      checks: [
        { kind: 'http', scheme: 'https' },
        { kind: 'grpc', tls: true },
      ],
    });
    expect(res).toEqual({ status: 201, message: '' });
  });
});
