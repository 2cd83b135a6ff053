import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { ClientCertConfig } from '../config/kinds/client-cert.js';
import { describeError } from './errors.js';

/**
 * The TLS files of the http and grpc checks (`ca_file`, `client_cert`),
 * read once when a runner is built: a run never touches the disk, and a file
 * that cannot be read or a key that does not fit its certificate throws here,
 * naming the field, which createRunner turns into an UNKNOWN `error` result
 * on every run instead of a crash or a misleading `tls` failure of the target.
 */

/** PEM bytes of a client certificate and its key. */
export interface ClientCertPem {
  cert: Buffer;
  key: Buffer;
}

/** Reads `field` (a path); throws `field: cannot read PATH: why`. */
export function readPemFile(path: string, field: string): Buffer {
  let pem: Buffer;
  try {
    pem = readFileSync(path);
  } catch (err) {
    throw new Error(`${field}: cannot read ${path}: ${describeError(err)}`);
  }
  if (!pem.includes('-----BEGIN ')) throw new Error(`${field}: ${path} holds no PEM block`);
  return pem;
}

/**
 * Reads a client_cert pair and checks that the key belongs to the
 * certificate (OpenSSL's own check, through a throwaway secure context).
 */
export function loadClientCert(config: ClientCertConfig): ClientCertPem {
  const cert = readPemFile(config.cert_file, 'client_cert.cert_file');
  const key = readPemFile(config.key_file, 'client_cert.key_file');
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new Error(`client_cert: ${config.cert_file} and ${config.key_file} are not a usable certificate and key: ${describeError(err)}`);
  }
  return { cert, key };
}
