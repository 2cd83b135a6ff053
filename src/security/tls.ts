import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer, type ServerOptions as HttpsOptions } from 'node:https';
import type { Server as HttpServer } from 'node:http';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContextOptions, type Server as TlsServer } from 'node:tls';
import type { Clock } from '../core/clock.js';
import { HealthmeshError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { ListenerTlsConfig } from '../config/security.js';

/**
 * TLS of the daemon's listeners (`server.tls`, `proxy.tls`): the files are
 * read and checked before use (the key matches the certificate, which is in
 * its validity period), so a bad pair is refused with the reason instead of
 * failing every handshake; on reload a bad new pair keeps the old one.
 */

/** The settings a TLS listener is created (and its context reloaded) with. */
export type ListenerTlsOptions = Pick<HttpsOptions, 'cert' | 'key' | 'ca' | 'requestCert' | 'rejectUnauthorized' | 'minVersion'>;

/**
 * Read and check the files of `tls` (named by `field`, e.g. server.tls).
 * Throws a HealthmeshError naming the file and what is wrong with it.
 */
export function loadListenerTls(tls: ListenerTlsConfig, field: string, now: number): ListenerTlsOptions {
  const read = (name: 'cert' | 'key' | 'client_ca'): Buffer => {
    const path = tls[name]!;
    try {
      return readFileSync(path);
    } catch (err) {
      throw new HealthmeshError('tls', `${field}.${name}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  };
  const cert = read('cert');
  const key = read('key');
  const ca = tls.client_ca !== undefined ? read('client_ca') : undefined;
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new HealthmeshError('tls', `${field}.cert: ${tls.cert} is not a PEM certificate (${(err as Error).message})`);
  }
  let matches: boolean;
  try {
    matches = x509.checkPrivateKey(createPrivateKey(key));
  } catch (err) {
    throw new HealthmeshError('tls', `${field}.key: ${tls.key} is not a PEM private key (${(err as Error).message})`);
  }
  if (!matches) throw new HealthmeshError('tls', `${field}.key: ${tls.key} is not the key of the certificate ${tls.cert}`);
  const notAfter = Date.parse(x509.validTo);
  const notBefore = Date.parse(x509.validFrom);
  if (notAfter <= now) throw new HealthmeshError('tls', `${field}.cert: ${tls.cert} expired on ${x509.validTo}`);
  if (notBefore > now) throw new HealthmeshError('tls', `${field}.cert: ${tls.cert} is not valid before ${x509.validFrom}`);
  if (ca !== undefined) {
    try {
      new X509Certificate(ca);
    } catch (err) {
      throw new HealthmeshError('tls', `${field}.client_ca: ${tls.client_ca} is not a PEM certificate (${(err as Error).message})`);
    }
  }
  const options: ListenerTlsOptions = {
    cert,
    key,
    minVersion: tls.min_version,
    ...(ca !== undefined ? { ca, requestCert: true, rejectUnauthorized: true } : {}),
  };
  // The same check node makes at listen time, here so it fails with the field named.
  try {
    createSecureContext(options as SecureContextOptions);
  } catch (err) {
    throw new HealthmeshError('tls', `${field}: the certificate, key or client_ca cannot be used (${(err as Error).message})`);
  }
  return options;
}

/**
 * A fastify `serverFactory` making an HTTPS server. fastify's types tie the
 * raw server to node:http; an https.Server serves the same request events,
 * so it is handed over as one (the only cast of this module).
 */
export function httpsServerFactory(options: ListenerTlsOptions): (handler: (req: never, res: never) => void) => HttpServer {
  return (handler) => createHttpsServer(options, handler as Parameters<typeof createHttpsServer>[1]) as unknown as HttpServer;
}

/** An HTTPS server typed as node:http's (same request and upgrade events), for code written against http.Server. */
export function createHttpsListener(
  options: ListenerTlsOptions & Pick<HttpsOptions, 'requestTimeout'>,
  handler: Parameters<typeof createHttpsServer>[1],
): HttpServer {
  return createHttpsServer(options, handler) as unknown as HttpServer;
}

/** Whether a listening server speaks TLS (has setSecureContext). */
export function isTlsServer(server: unknown): server is TlsServer {
  return typeof (server as TlsServer | null)?.setSecureContext === 'function';
}

/**
 * Reload the certificate of a running TLS listener from `tls`' files (on
 * SIGHUP): new handshakes use the new pair, open connections keep theirs.
 * A pair that fails the checks is not used; the old one stays and the
 * reason is logged. Returns whether the new pair is in use.
 */
export function reloadListenerTls(server: HttpsServer | TlsServer, tls: ListenerTlsConfig, field: string, clock: Clock, logger: Logger): boolean {
  let options: ListenerTlsOptions;
  try {
    options = loadListenerTls(tls, field, clock.now());
  } catch (err) {
    logger.error({ field, err: (err as Error).message }, `${field}: the new certificate is not used, the one in use stays: ${(err as Error).message}`);
    return false;
  }
  server.setSecureContext(options as SecureContextOptions);
  logger.info({ field, cert: tls.cert }, `${field}: certificate reloaded from ${tls.cert}`);
  return true;
}
