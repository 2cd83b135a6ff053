import { z } from 'zod';
import { address, commonCheckFields, positiveDuration } from '../common.js';
import { clientCertSchema } from './client-cert.js';

/**
 * Config of the `grpc` check kind: the standard gRPC health protocol
 * (`grpc.health.v1.Health`), probed with unary `Check` calls or followed with
 * a server-streaming `Watch`. Zod only: the runner lives in checks/grpc.ts.
 */
export const grpcCheckSchema = z
  .strictObject({
    kind: z.literal('grpc'),
    ...commonCheckFields,
    address: address.optional().meta({ description: 'host:port of the gRPC server; default: the instance address' }),
    port: z.number().int().min(1).max(65535).optional().meta({ description: 'Port on the instance host (overrides the port of the address)' }),
    service: z.string().default('').meta({ description: 'Service name sent in HealthCheckRequest; "" asks for the whole server' }),
    tls: z.boolean().default(false).meta({ description: 'Connect with TLS instead of plaintext HTTP/2' }),
    tls_verify: z.boolean().default(true).meta({ description: 'Verify the server certificate chain and host name (only with tls)' }),
    tls_server_name: z.string().min(1).optional().meta({ description: 'Name sent as SNI and checked against the certificate; default: the target host' }),
    ca_file: z.string().min(1).optional().meta({ description: 'PEM file of CA certificates to trust instead of the system roots (only with tls)' }),
    client_cert: clientCertSchema.optional(),
    metadata: z
      .record(
        z
          .string()
          .regex(/^[0-9A-Za-z_.-]+$/, 'use letters, digits, "_", "." and "-"')
          .refine((k) => !/^grpc-/i.test(k), 'names starting with "grpc-" are reserved by gRPC')
          .refine((k) => !/-bin$/i.test(k), 'binary ("-bin") metadata is not supported'),
        z.string().regex(/^[\x20-\x7e]*$/, 'use printable ASCII'),
      )
      .default({})
      .meta({ description: 'Call metadata (request headers) sent with every call, e.g. authorization' }),
    mode: z.enum(['check', 'watch']).default('check').meta({
      description: 'check: one unary Check call a run; watch: keep a Watch stream open and report the latest pushed status',
    }),
    degraded_after: positiveDuration.optional().meta({ description: 'A SERVING answer slower than this gives DEGRADED (slow); check mode only' }),
  })
  .superRefine((c, ctx) => {
    // Settings that would be silently ignored are errors, named by field.
    if (!c.tls) {
      if (c.ca_file !== undefined) ctx.addIssue({ code: 'custom', path: ['ca_file'], message: 'only used with tls: true' });
      if (c.client_cert !== undefined) ctx.addIssue({ code: 'custom', path: ['client_cert'], message: 'only used with tls: true' });
      if (c.tls_server_name !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['tls_server_name'], message: 'only used with tls: true' });
      }
      if (!c.tls_verify) ctx.addIssue({ code: 'custom', path: ['tls_verify'], message: 'only used with tls: true' });
    }
    if (c.mode === 'watch' && c.degraded_after !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['degraded_after'],
        message: 'only used with mode: check (watch has no per-run latency)',
      });
    }
  });

/** A validated grpc check config (durations in ms, defaults applied). */
export type GrpcCheckConfig = z.output<typeof grpcCheckSchema>;
