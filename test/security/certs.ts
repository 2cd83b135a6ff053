import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Files of a generated certificate: PEM certificate and key. */
export interface CertFiles {
  cert: string;
  key: string;
}

const openssl = (args: string[], cwd: string) => execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** A self-signed CA named `name` in `dir`. */
export function makeCa(dir: string, name: string): CertFiles {
  const files = { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
  openssl(['req', '-x509', ...KEY, '-keyout', files.key, '-out', files.cert, '-subj', `/CN=${name}`, '-days', '2'], dir);
  return files;
}

/**
 * A certificate for `name` signed by `ca`: for a server on 127.0.0.1 /
 * localhost, or a client. `days: -1` makes one that has already expired.
 */
export function makeCert(dir: string, ca: CertFiles, name: string, options: { days?: number; client?: boolean } = {}): CertFiles {
  const files = { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, options.client ? 'extendedKeyUsage=clientAuth\n' : 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  openssl(['req', ...KEY, '-keyout', files.key, '-out', csr, '-subj', `/CN=${name}`], dir);
  openssl(
    ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-days', String(options.days ?? 2), '-extfile', ext, '-out', files.cert],
    dir,
  );
  return files;
}
