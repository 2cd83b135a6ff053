import { z } from 'zod';
import { alertsSchema } from './alerts.js';
import { balancerSchema, proxySchema } from './balancer.js';
import { address, duration, positiveDuration } from './common.js';
import { hostPort } from './host-port.js';
import { metricsSchema } from './metrics.js';
import { apiTokensSchema, listenerTlsSchema, registrationPolicySchema } from './security.js';
import { sloSchema } from './slo.js';
import { reportsSchema } from './reports.js';
import { storageSchema } from './storage.js';
import { customCheckSchema } from './kinds/custom.js';
import { dnsCheckSchema } from './kinds/dns.js';
import { execCheckSchema } from './kinds/exec.js';
import { grpcCheckSchema } from './kinds/grpc.js';
import { httpCheckSchema } from './kinds/http.js';
import { icmpCheckSchema } from './kinds/icmp.js';
import { systemCheckSchema } from './kinds/system.js';
import { tcpCheckSchema } from './kinds/tcp.js';
import { tlsCheckSchema } from './kinds/tls.js';
import { ttlCheckSchema } from './kinds/ttl.js';
import { statusPagesSchema } from './status-pages.js';

/**
 * The single source of truth for the config file: validation, the TypeScript
 * types (z.output) and the JSON Schema printed by `healthmesh schema`.
 */

// Kept importable from here, where they lived before config/kinds/ (checks/http.ts, cli/check-target.ts, bench).
export { httpCheckSchema, type HttpCheckConfig } from './kinds/http.js';
export { tcpCheckSchema, type TcpCheckConfig } from './kinds/tcp.js';

/**
 * Every check kind's schema, each in its own file under config/kinds/. The
 * kind names (CHECK_KINDS), CheckConfig and CheckKind all derive from this
 * list, so adding a kind is one entry here and one in checks/index.ts.
 */
const kindSchemas = [
  httpCheckSchema,
  tcpCheckSchema,
  grpcCheckSchema,
  dnsCheckSchema,
  tlsCheckSchema,
  execCheckSchema,
  ttlCheckSchema,
  systemCheckSchema,
  icmpCheckSchema,
  customCheckSchema,
] as const;

/** Every check kind's name, in schema order. */
export const CHECK_KINDS = kindSchemas.map((k) => k.shape.kind.value);

export const checkSchema = z.discriminatedUnion('kind', kindSchemas, {
  error: (issue) => (issue.code === 'invalid_union' ? `unknown or missing check kind (allowed: ${CHECK_KINDS.join(', ')})` : undefined),
});

const flapSchema = z.strictObject({
  window: z.number().int().min(3).max(64).default(21),
  low: z.number().min(0).max(1).default(0.05),
  high: z.number().min(0).max(1).default(0.2),
});

const defaultsSchema = z.strictObject({
  interval: positiveDuration.default(10_000),
  timeout: positiveDuration.default(2_000),
  retries: z.number().int().min(0).max(10).default(0),
  retry_backoff: duration.default(200),
  jitter: z.number().min(0).max(1).default(0.1),
  rise: z.number().int().min(1).max(100).default(2),
  fall: z.number().int().min(1).max(100).default(3),
  unhealthy_interval: positiveDuration.optional(),
  edge_interval: positiveDuration.optional(),
  flap: flapSchema.prefault({}),
});

/** How an instance combines its checks (see status/aggregate.ts). */
const checkPolicy = z
  .enum(['worst', 'all', 'any', 'k_of_n'])
  .meta({ description: 'worst (default): most severe check; all: AND; any: OR; k_of_n: at least check_quorum checks HEALTHY' });

export const instanceSchema = z.strictObject({
  check_policy: checkPolicy.optional().meta({ description: "Overrides the service's check_policy" }),
  check_quorum: z.number().int().min(1).optional(),
  id: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]+$/, 'use letters, digits, "_", ".", ":" and "-"')
    .optional(),
  address: hostPort,
  tags: z.array(z.string()).default([]),
  weight: z.number().int().min(0).max(10_000).default(1),
  zone: z.string().optional(),
  metadata: z.record(z.string(), z.string()).default({}),
  checks: z.array(checkSchema).default([]).meta({ description: 'Checks of this instance only' }),
});

/** Instances found in DNS SRV records, refreshed on an interval. */
const dnsSrvDiscoverySchema = z.strictObject({
  query: z.string().min(1).meta({ description: 'SRV name, e.g. _http._tcp.api.service.consul' }),
  server: address.meta({ description: 'DNS server host:port to ask' }),
  interval: positiveDuration.default(30_000).meta({ description: 'How often the records are read again' }),
});

export const serviceSchema = z.strictObject({
  description: z.string().optional(),
  depends_on: z.array(z.string()).default([]).meta({ description: 'Services this one needs: while one is UNHEALTHY this one is at most DEGRADED' }),
  check_policy: checkPolicy.default('worst'),
  check_quorum: z.number().int().min(1).optional().meta({ description: 'k for check_policy: k_of_n' }),
  deregister_after: positiveDuration.optional().meta({ description: 'Remove instances registered at run time (API, discovery) that stay UNHEALTHY this long' }),
  discover: z
    .strictObject({ dns_srv: dnsSrvDiscoverySchema })
    .optional()
    .meta({ description: 'Discover instances besides the listed ones; each gets the service checks' }),
  min_healthy: z.number().int().min(0).default(1).meta({ description: 'Fewer passing (HEALTHY or DEGRADED) instances → service UNHEALTHY' }),
  critical: z.boolean().default(true).meta({ description: 'This service UNHEALTHY makes the mesh UNHEALTHY (/health 503); false: only DEGRADED' }),
  instances: z.array(instanceSchema).default([]),
  checks: z.array(checkSchema).default([]).meta({ description: 'Checks run against every instance' }),
  balancer: balancerSchema.prefault({}).meta({ description: 'How traffic to this service is balanced (proxy, library, balancer API)' }),
  slo: sloSchema.optional().meta({ description: 'Service-level objective: availability or latency, error budget and burn rates (README, "Analysis")' }),
});

const serviceNameSchema = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, "_", "." and "-"');

const listen = z.string().regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, 'use host:port, e.g. 127.0.0.1:7400');

export const configSchema = z.strictObject({
  server: z
    .strictObject({
      listen: listen.default('127.0.0.1:7400'),
      token: z.string().min(16, 'use at least 16 characters').optional().meta({ description: 'Bearer token for mutating API calls (or HEALTHMESH_API_TOKEN)' }),
      protect_reads: z.boolean().default(false).meta({ description: 'Require the token for reads too (not /livez, /readyz)' }),
      tokens: apiTokensSchema.meta({ description: 'Scoped tokens: [{name, token, scopes: [read, write, admin]}] (README, "Security")' }),
      tls: listenerTlsSchema.optional().meta({ description: 'HTTPS (and mTLS with client_ca) for the API, /metrics, SSE and the dashboard' }),
    })
    .prefault({}),
  storage: storageSchema,
  scheduler: z
    .strictObject({
      concurrency: z.number().int().min(1).max(100_000).default(512).meta({ description: 'Checks running at once' }),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
      format: z.enum(['auto', 'json', 'pretty']).default('auto'),
    })
    .prefault({}),
  defaults: defaultsSchema.prefault({}),
  metrics: metricsSchema.prefault({}).meta({ description: 'Prometheus metrics at /metrics' }),
  proxy: proxySchema.optional().meta({ description: 'Reverse proxy for `healthmesh proxy`: routes to services' }),
  alerts: alertsSchema.optional().meta({ description: 'Alert rules, notifiers, silences and maintenance windows (README, "Alerts")' }),
  reports: reportsSchema.optional().meta({ description: 'Scheduled reports: cron, folder, notifiers, retention (README, "Reports")' }),
  status_pages: statusPagesSchema,
  registration: registrationPolicySchema
    .prefault({})
    .meta({ description: 'Limits of run-time registrations: networks, ports, counts, body size (README, "Security")' }),
  services: z.record(serviceNameSchema, serviceSchema),
});

/**
 * The config with each service left unchecked: config/fast-load.ts checks
 * the services one by one, so a reload can keep the ones whose text did not
 * change.
 */
export const configShellSchema = configSchema.extend({ services: z.record(serviceNameSchema, z.unknown()) });

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type CheckConfig = z.output<typeof checkSchema>;
export type CheckKind = CheckConfig['kind'];
export type ServiceConfig = z.output<typeof serviceSchema>;
export type InstanceConfig = z.output<typeof instanceSchema>;
export type Defaults = z.output<typeof defaultsSchema>;
export type DnsSrvDiscovery = z.output<typeof dnsSrvDiscoverySchema>;

/** The JSON Schema of the config file (input side: what a user writes). */
export function configJsonSchema(): unknown {
  return z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' });
}
