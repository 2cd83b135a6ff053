import { z } from 'zod';
import { commonCheckFields, duration, positiveDuration } from '../common.js';

/**
 * Config of the `icmp` kind: ping a host with the system `ping` (iputils)
 * and judge packet loss and round-trip time. The spacing of echo requests is
 * `packet_interval`; `interval` stays the time between check runs.
 */

const fraction = z.number().min(0).max(1);

/** The `icmp` check as written in the config file. */
export const icmpCheckSchema = z
  .strictObject({
    kind: z.literal('icmp'),
    ...commonCheckFields,
    host: z
      .string()
      .min(1)
      .regex(/^[^\s-][^\s]*$/, 'a host name or IP address (no spaces, not starting with "-")')
      .optional()
      .meta({ description: 'Host name or IP to ping (default: the instance host)' }),
    family: z.enum(['auto', 'ipv4', 'ipv6']).default('auto').meta({ description: 'Address family; auto follows an IP literal and lets ping choose for names' }),
    count: z.number().int().min(1).max(100).default(3).meta({ description: 'Echo requests sent per run' }),
    // Not `interval`: that common field is the time between check runs.
    packet_interval: positiveDuration
      .default(200)
      .refine((ms) => ms >= 2, { message: 'must be at least 2ms (the iputils minimum without root)' })
      .meta({ description: 'Time between echo requests within a run (ping -i)' }),
    packet_timeout: positiveDuration.default(1000).meta({ description: 'Wait for a reply (ping -W), shortened to fit in the check timeout' }),
    loss_warn: fraction.default(0.2).meta({ description: 'Loss share (0..1) at or above which the check is DEGRADED' }),
    loss_critical: fraction.default(0.6).meta({ description: 'Loss share (0..1) at or above which the check is UNHEALTHY' }),
    rtt_warn: duration.optional().meta({ description: 'Average round-trip time at or above which it is DEGRADED' }),
    rtt_critical: duration.optional().meta({ description: 'Average round-trip time at or above which it is UNHEALTHY' }),
  })
  .superRefine((c, ctx) => {
    if (c.loss_warn > c.loss_critical) {
      ctx.addIssue({
        code: 'custom',
        path: ['loss_warn'],
        input: c.loss_warn,
        message: `loss_warn (${c.loss_warn}) must not exceed loss_critical (${c.loss_critical})`,
      });
    }
    if (c.rtt_warn !== undefined && c.rtt_critical !== undefined && c.rtt_warn > c.rtt_critical) {
      ctx.addIssue({
        code: 'custom',
        path: ['rtt_warn'],
        input: c.rtt_warn,
        message: `rtt_warn (${c.rtt_warn}ms) must not exceed rtt_critical (${c.rtt_critical}ms)`,
      });
    }
  });

/** A validated icmp check config (durations in ms, shares 0..1). */
export type IcmpCheckConfig = z.output<typeof icmpCheckSchema>;
