import { z } from 'zod';
import { address, commonCheckFields, positiveDuration } from '../common.js';

/** Record types the dns check can query. */
export const dnsRecordTypes = ['A', 'AAAA', 'CNAME', 'SRV', 'TXT', 'MX', 'NS'] as const;

/** One of dnsRecordTypes. */
export type DnsRecordType = (typeof dnsRecordTypes)[number];

const dnsExpectSchema = z
  .strictObject({
    contains: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .meta({
        description:
          'Answers that must all be present. A/AAAA: the address; CNAME/NS: the name; MX: the exchange; ' +
          'SRV: "target:port"; TXT: the record\'s strings joined. Names compare case-insensitively, trailing dot ignored',
      }),
    count_min: z.number().int().min(0).optional().meta({ description: 'At least this many answers' }),
    count_max: z.number().int().min(0).optional().meta({ description: 'At most this many answers' }),
  })
  .refine((e) => e.count_min === undefined || e.count_max === undefined || e.count_min <= e.count_max, {
    message: 'count_min must not be greater than count_max',
    path: ['count_min'],
  })
  .meta({ description: 'Conditions on the answers; any failing gives UNHEALTHY answer_mismatch' });

/**
 * A check of a DNS server: one query of `type` for `query`, sent to `server`
 * (default: the instance address, port 53 when none is given).
 */
export const dnsCheckSchema = z.strictObject({
  kind: z.literal('dns'),
  ...commonCheckFields,
  // Not `name`: that is the check's own name (commonCheckFields), which must stay free so that
  // two checks of one query name (A and AAAA) can be told apart.
  query: z
    .string()
    .min(1)
    .max(254)
    .regex(/^[^\s]+$/, 'a DNS name has no spaces')
    .meta({ description: 'The name to query, e.g. api.example.com or _http._tcp.api.example.com' }),
  type: z.enum(dnsRecordTypes).default('A').meta({ description: 'Record type to query' }),
  server: address.optional().meta({ description: 'Resolver to ask, host:port, [v6]:port or host (port 53); default: the instance address' }),
  expect: dnsExpectSchema.optional(),
  degraded_after: positiveDuration.optional().meta({ description: 'Answer latency above this gives DEGRADED (slow)' }),
});

/** A dns check's settings as validated (durations in ms). */
export type DnsCheckConfig = z.output<typeof dnsCheckSchema>;
