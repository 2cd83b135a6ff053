import { z } from 'zod';

/**
 * Config of who may use the API and how it is reached: scoped tokens and TLS
 * (`server.tokens`, `server.tls`, `proxy.tls`) and what a run-time
 * registration may point the daemon at (`registration:`). README, "Security".
 */

/** What a token may do: read (GET, SSE), write (registrations, heartbeats, reports, silences), admin (reload, config). */
export const SCOPES = ['read', 'write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

const tokenName = z.string().regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'use 1–64 letters, digits, "_", ".", "@" and "-"');

/** One entry of `server.tokens`. */
export const apiTokenSchema = z.strictObject({
  name: tokenName.meta({ description: 'Who holds the token: written in the audit log (the value never is)' }),
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the text shows the ${VAR} syntax itself
  token: z.string().min(16, 'use at least 16 characters').meta({ description: 'The bearer token; write ${VAR} to keep it out of the file' }),
  scopes: z
    .array(z.enum(SCOPES))
    .min(1, 'give at least one scope (read, write, admin)')
    .meta({ description: 'read: GET routes and SSE; write: registrations, TTL heartbeats, balancer reports, silences; admin: everything, reload included' }),
});
export type ApiTokenConfig = z.output<typeof apiTokenSchema>;

export const apiTokensSchema = z
  .array(apiTokenSchema)
  .default([])
  .refine((tokens) => new Set(tokens.map((t) => t.name)).size === tokens.length, { message: 'give each token its own name' })
  .refine((tokens) => new Set(tokens.map((t) => t.token)).size === tokens.length, { message: 'give each token its own value' });

/** `server.tls` and `proxy.tls`: HTTPS, and mTLS with client_ca. Files are read at start and again on SIGHUP. */
export const listenerTlsSchema = z.strictObject({
  cert: z.string().min(1).meta({ description: 'PEM certificate (chain) file' }),
  key: z.string().min(1).meta({ description: 'PEM private key file' }),
  client_ca: z.string().min(1).optional().meta({ description: 'PEM CA file: clients must present a certificate signed by it (mTLS)' }),
  min_version: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
});
export type ListenerTlsConfig = z.output<typeof listenerTlsSchema>;

/** IPv4 or IPv6 CIDR, e.g. 10.0.0.0/8 or fd00::/8. */
const cidr = z.string().regex(/^([0-9.]+\/\d{1,2}|[0-9a-fA-F:.]+\/\d{1,3})$/, 'use a CIDR such as 10.0.0.0/8 or fd00::/8');

/** Loopback and the private ranges (RFC 1918, RFC 4193 unique local). Link-local (169.254/16, cloud metadata) is not among them. */
export const DEFAULT_ALLOWED_NETWORKS = ['127.0.0.0/8', '::1/128', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'];

/** `registration:`: what a run-time registration (API, DNS discovery) may point checks at, and how many there may be. */
export const registrationPolicySchema = z.strictObject({
  allowed_networks: z
    .array(cidr)
    .default(DEFAULT_ALLOWED_NETWORKS)
    .meta({ description: 'Addresses a run-time registration may resolve to (default: loopback and private ranges). Config-file instances are trusted' }),
  allowed_ports: z
    .array(z.union([z.number().int().min(1).max(65535), z.string().regex(/^\d{1,5}-\d{1,5}$/, 'use a port or a range such as 8000-8999')]))
    .optional()
    .meta({ description: 'Ports a run-time registration may use (numbers or "from-to" ranges); default any' }),
  max_total: z.number().int().min(0).default(10_000).meta({ description: 'Run-time registrations in all' }),
  max_per_token: z.number().int().min(0).default(1_000).meta({ description: 'Run-time registrations made with one token' }),
  max_per_service: z.number().int().min(0).default(1_000).meta({ description: 'Instances of one service (all sources) a registration may bring it to' }),
  max_body_bytes: z
    .number()
    .int()
    .min(256)
    .max(16 * 1024 * 1024)
    .default(64 * 1024)
    .meta({ description: 'Largest registration body' }),
});
export type RegistrationPolicyConfig = z.output<typeof registrationPolicySchema>;
