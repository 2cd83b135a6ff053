import { z } from 'zod';
import { commonCheckFields, positiveDuration } from '../common.js';
import { clientCertSchema } from './client-cert.js';

/** `200`, `"2xx"`, `"200-299"`. */
const statusMatcher = z.union([
  z.number().int().min(100).max(599),
  z.string().regex(/^([1-5]xx|[1-5]\d\d(-[1-5]\d\d)?)$/, 'use a code (200), a class ("2xx") or a range ("200-299")'),
]);

/**
 * Config of the `http` check kind: one HTTP(S) request a run, judged by
 * status, body and latency. Zod only: the runner lives in checks/http.ts.
 */
export const httpCheckSchema = z
  .strictObject({
    kind: z.literal('http'),
    ...commonCheckFields,
    url: z.url().optional().meta({ description: 'Full URL; overrides scheme, instance address and path' }),
    scheme: z.enum(['http', 'https']).default('http'),
    path: z.string().startsWith('/').default('/'),
    method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']).default('GET'),
    headers: z.record(z.string(), z.string()).default({}),
    body: z.string().optional().meta({ description: 'Request body to send' }),
    expect_status: z.array(statusMatcher).min(1).default(['2xx']),
    expect_body: z
      .strictObject({
        contains: z.string().optional(),
        not_contains: z.string().optional(),
        regex: z.string().optional(),
        json: z
          .array(z.strictObject({ path: z.string().min(1), equals: z.union([z.string(), z.number(), z.boolean(), z.null()]) }))
          .optional()
          .meta({ description: 'JSON path ($.a.b[0]) → expected value' }),
      })
      .optional(),
    max_body_bytes: z
      .number()
      .int()
      .min(0)
      .max(64 * 1024 * 1024)
      .default(64 * 1024),
    degraded_after: positiveDuration.optional().meta({ description: 'Latency above this gives DEGRADED (slow)' }),
    tls_verify: z.boolean().default(true),
    tls_server_name: z.string().optional(),
    ca_file: z.string().min(1).optional().meta({ description: 'PEM file of CA certificates to trust instead of the system roots (https)' }),
    client_cert: clientCertSchema.optional(),
    follow_redirects: z.number().int().min(0).max(10).default(0).meta({ description: 'Redirects to follow (0 = none)' }),
    reuse_connections: z
      .union([z.boolean(), z.literal('auto')])
      .default('auto')
      .meta({ description: 'Keep the connection between runs: auto keeps it only when the interval is under 4 s (see checks/http-plan.ts)' }),
  })
  .superRefine((c, ctx) => {
    // TLS files on a plain-http check that no redirect can take to https would be silently ignored.
    const plain = c.url !== undefined ? c.url.toLowerCase().startsWith('http:') : c.scheme === 'http';
    if (!plain || c.follow_redirects > 0) return;
    for (const field of ['ca_file', 'client_cert'] as const) {
      if (c[field] !== undefined) ctx.addIssue({ code: 'custom', path: [field], message: 'only used with https (scheme: https or an https url)' });
    }
  });

/** A validated http check config (durations in ms, defaults applied). */
export type HttpCheckConfig = z.output<typeof httpCheckSchema>;
