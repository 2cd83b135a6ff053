import { z } from 'zod';
import { address, commonCheckFields } from '../common.js';

/**
 * A check of a TLS endpoint's certificate: handshake, then judge the peer
 * chain's expiry, the hostname and (with `verify`) the trust.
 */
export const tlsCheckSchema = z
  .strictObject({
    kind: z.literal('tls'),
    ...commonCheckFields,
    address: address.optional().meta({ description: 'host:port to connect to; default: the instance address' }),
    port: z
      .number()
      .int()
      .min(1)
      .max(65535)
      .optional()
      .meta({ description: 'Port on the target host; overrides the port of the address (default 443 when none)' }),
    server_name: z.string().min(1).optional().meta({ description: 'SNI and the hostname the certificate must match; default: the host of the address' }),
    warn_days: z.number().min(0).default(30).meta({ description: 'Days left at or below which the check is DEGRADED (cert_expiring)' }),
    critical_days: z.number().min(0).default(7).meta({ description: 'Days left at or below which the check is UNHEALTHY (cert_expiring)' }),
    ca_file: z.string().min(1).optional().meta({ description: 'PEM file of extra CA certificates to trust, besides the system roots; read at start' }),
    verify: z.boolean().default(true).meta({ description: 'Require a chain trusted by the system roots or ca_file (else UNHEALTHY cert_untrusted)' }),
  })
  .refine((c) => c.critical_days <= c.warn_days, {
    message: 'critical_days must not be greater than warn_days',
    path: ['critical_days'],
  });

/** A tls check's settings as validated. */
export type TlsCheckConfig = z.output<typeof tlsCheckSchema>;
