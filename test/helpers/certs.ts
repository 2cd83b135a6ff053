import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { generate } from 'selfsigned';

/**
 * Certificates made in the test (selfsigned, EC P-256 keys so they are quick)
 * and TLS servers on 127.0.0.1 that present them.
 */

const DAY_MS = 86_400_000;

/** A certificate and its private key, PEM. */
export interface KeyCert {
  key: string;
  cert: string;
}

/** Validity of a certificate in days from now (negative: in the past). */
export interface Validity {
  /** Start of validity, days from now (default -1). */
  fromDays?: number;
  /** End of validity, days from now. */
  toDays: number;
}

function dates(v: Validity): { notBeforeDate: Date; notAfterDate: Date } {
  const now = Date.now();
  return {
    notBeforeDate: new Date(now + (v.fromDays ?? -1) * DAY_MS),
    notAfterDate: new Date(now + v.toDays * DAY_MS),
  };
}

/** A CA certificate (self-signed, or signed by `issuer` for an intermediate). */
export async function makeCa(cn: string, v: Validity, issuer?: KeyCert): Promise<KeyCert> {
  const pems = await generate([{ name: 'commonName', value: cn }], {
    keyType: 'ec',
    algorithm: 'sha256',
    ...dates(v),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
    ...(issuer !== undefined ? { ca: issuer } : {}),
  });
  return { key: pems.private, cert: pems.cert };
}

/**
 * A server certificate for `names` (DNS names; IPs given as dotted quads go
 * into IP SANs), signed by `issuer` or self-signed when none.
 */
export async function makeLeaf(names: string[], v: Validity, issuer?: KeyCert): Promise<KeyCert> {
  const altNames = names.map((n) => (/^\d+\.\d+\.\d+\.\d+$/.test(n) ? { type: 7 as const, ip: n } : { type: 2 as const, value: n }));
  const pems = await generate([{ name: 'commonName', value: names[0] ?? 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    ...dates(v),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
    ...(issuer !== undefined ? { ca: issuer } : {}),
  });
  return { key: pems.private, cert: pems.cert };
}

/** A temporary directory for PEM files; remove() deletes it. */
export interface PemDir {
  /** Writes `pem` to a file in the directory and returns its path. */
  write(name: string, pem: string): string;
  remove(): void;
}

export function pemDir(): PemDir {
  const dir = mkdtempSync(join(tmpdir(), 'healthmesh-certs-'));
  return {
    write(name, pem) {
      const path = join(dir, name);
      writeFileSync(path, pem);
      return path;
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A listening TLS (or TCP) test server on 127.0.0.1. */
export interface CertServer {
  port: number;
  /** 127.0.0.1:port */
  address: string;
  /** TCP connections accepted so far. */
  connections(): number;
  /** SNI names seen in completed handshakes (false or null: no SNI). */
  servernames: (string | false | null)[];
  /** Codes of handshakes that failed on the server side (tlsClientError). */
  handshakeErrors: string[];
  close(): Promise<void>;
}

/** A TLS server presenting `leaf` followed by `chain` (intermediates); it sends nothing after the handshake. */
export function tlsServer(leaf: KeyCert, chain: string[] = []): Promise<CertServer> {
  const servernames: (string | false | null)[] = [];
  const handshakeErrors: string[] = [];
  const server = createTlsServer({ key: leaf.key, cert: [leaf.cert, ...chain].join('\n') }, (socket: TLSSocket) => {
    servernames.push(socket.servername);
    socket.resume();
  });
  server.on('tlsClientError', (err: NodeJS.ErrnoException) => handshakeErrors.push(err.code ?? err.message));
  return track(server, servernames, handshakeErrors);
}

/** Accepts TCP connections and never starts (or answers) a TLS handshake. */
export function noHandshakeServer(): Promise<CertServer> {
  return track(
    createNetServer((socket) => socket.resume()),
    [],
    [],
  );
}

function track(server: ReturnType<typeof createNetServer>, servernames: (string | false | null)[], handshakeErrors: string[]): Promise<CertServer> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  server.on('connection', (socket: Socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      const a = server.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      resolve({
        port,
        address: `127.0.0.1:${port}`,
        connections: () => accepted,
        servernames,
        handshakeErrors,
        close: () => {
          for (const s of sockets) s.destroy();
          return new Promise<void>((r) => server.close(() => r()));
        },
      });
    });
  });
}
