import { z } from 'zod';

/**
 * `client_cert` of the http and grpc check kinds: the certificate and key a
 * check presents to a target that asks for one (mTLS). Named like `ca_file`
 * (paths, `_file`), since grpc already uses `tls` as an on/off switch. The
 * files are read once, when the check's runner is built (checks/tls-files.ts).
 */
export const clientCertSchema = z
  .strictObject({
    cert_file: z.string().min(1).meta({ description: 'PEM file of the client certificate (and its chain)' }),
    key_file: z.string().min(1).meta({ description: 'PEM file of the private key of cert_file (unencrypted)' }),
  })
  .meta({ description: 'Client certificate for targets that require mTLS; read once when the check is built' });

/** A validated client_cert setting. */
export type ClientCertConfig = z.output<typeof clientCertSchema>;
