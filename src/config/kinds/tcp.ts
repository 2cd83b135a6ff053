import { z } from 'zod';
import { address, commonCheckFields, positiveDuration } from '../common.js';

/**
 * Config of the `tcp` check kind: connect, optionally send bytes and expect
 * a banner. Zod only: the runner lives in checks/tcp.ts.
 */
export const tcpCheckSchema = z.strictObject({
  kind: z.literal('tcp'),
  ...commonCheckFields,
  address: address.optional().meta({ description: 'host:port; default: the instance address' }),
  port: z.number().int().min(1).max(65535).optional().meta({ description: 'Port on the instance host' }),
  send: z.string().optional().meta({ description: 'Bytes to send after connecting (\\r\\n escapes allowed)' }),
  expect: z.string().optional().meta({ description: 'Substring the banner/response must contain' }),
  max_bytes: z
    .number()
    .int()
    .min(1)
    .max(1024 * 1024)
    .default(4096),
  degraded_after: positiveDuration.optional(),
});

/** A validated tcp check config (durations in ms, defaults applied). */
export type TcpCheckConfig = z.output<typeof tcpCheckSchema>;
