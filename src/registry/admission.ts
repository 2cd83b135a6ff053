import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { HealthmeshError } from '../core/errors.js';
import type { CheckConfig } from '../config/schema.js';
import type { RegistrationPolicyConfig } from '../config/security.js';
import { registrationSchema, type Registry } from './registry.js';

/**
 * Admission of run-time registrations (the API and DNS discovery): what
 * stands between "anyone with a write token" and "the daemon probes any
 * address from inside the network". Every address a registration's checks
 * would reach is resolved and must lie in `registration.allowed_networks`
 * (and ports in `allowed_ports`); check kinds that run code are refused;
 * counts are bounded. Config-file instances never pass through here.
 * A refusal is a HealthmeshError naming the rule (README, "Security").
 */

/** Resolves a host name to every address it has. */
export type Resolve = (host: string) => Promise<string[]>;

const systemResolve: Resolve = async (host) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/** Kinds that run code on the daemon's host: the config file only. */
const CODE_KINDS = new Set(['exec', 'custom']);

/** One place a check connects to. */
interface Target {
  host: string;
  port?: number;
  /** The body field it came from, e.g. checks[0].url. */
  field: string;
}

export class Admission {
  private networks!: { v4: BlockList; v6: BlockList };
  /** Which token registered each key (service/id), for max_per_token. */
  private readonly owners = new Map<string, string>();

  constructor(
    private policy: RegistrationPolicyConfig,
    private readonly registry: Pick<Registry, 'instance' | 'instancesOf' | 'allInstances'>,
    private readonly resolve: Resolve = systemResolve,
  ) {
    this.configure(policy);
  }

  /** Take a new policy (config reload). */
  configure(policy: RegistrationPolicyConfig): void {
    this.policy = policy;
    const v4 = new BlockList();
    const v6 = new BlockList();
    for (const cidr of policy.allowed_networks) {
      const [net, bits] = cidr.split('/') as [string, string];
      const family = isIP(net);
      if (family === 4) v4.addSubnet(net, Number(bits), 'ipv4');
      else if (family === 6) v6.addSubnet(net, Number(bits), 'ipv6');
    }
    this.networks = { v4, v6 };
  }

  /** Largest registration body, bytes. */
  get maxBodyBytes(): number {
    return this.policy.max_body_bytes;
  }

  /**
   * Check a registration body made with the token named `owner` (or '-').
   * Resolves when it may be registered; throws the refusal otherwise (bad
   * input: ZodError; a rule: 403; a limit: 429).
   */
  async admit(body: unknown, owner: string): Promise<void> {
    const reg = registrationSchema.parse(body);
    reg.checks.forEach((check, i) => {
      if (CODE_KINDS.has(check.kind)) {
        throw new HealthmeshError(
          'forbidden',
          `checks[${i}].kind: "${check.kind}" runs code on the daemon's host; such checks come only from the config file (rule: registration check kinds)`,
        );
      }
      for (const field of ['ca_file', 'client_cert'] as const) {
        if (field in check && (check as Record<string, unknown>)[field] !== undefined) {
          throw new HealthmeshError(
            'forbidden',
            `checks[${i}].${field}: reads a file on the daemon's host; set it in the config file (rule: registration check files)`,
          );
        }
      }
    });
    const key = `${reg.service}/${reg.id}`;
    const isNew = this.registry.instance(key)?.key !== key;
    if (isNew) this.checkLimits(reg.service, owner);
    for (const target of [{ ...splitHostPort(reg.address), field: 'address' }, ...reg.checks.flatMap((c, i) => checkTargets(c, reg.address, `checks[${i}]`))]) {
      const problem = await this.targetProblem(target);
      if (problem) throw new HealthmeshError('forbidden', problem);
    }
  }

  /** Remember who registered `key` (after it is stored). */
  registered(key: string, owner: string): void {
    this.owners.set(key, owner);
  }

  /** Forget `key`'s owner (deregistered). */
  forget(key: string): void {
    this.owners.delete(key);
  }

  /** Why a discovered `host:port` may not be probed, or undefined (DNS discovery filters its records with this). */
  async addressProblem(address: string, field = 'address'): Promise<string | undefined> {
    return this.targetProblem({ ...splitHostPort(address), field });
  }

  private checkLimits(service: string, owner: string): void {
    const p = this.policy;
    let total = 0;
    for (const rec of this.registry.allInstances()) if (rec.source === 'api') total++;
    if (total >= p.max_total)
      throw new HealthmeshError(
        'limit_exceeded',
        `registration.max_total: ${p.max_total} run-time registrations exist already; deregister some or raise the limit`,
      );
    let mine = 0;
    for (const [key, who] of this.owners) if (who === owner && this.registry.instance(key)?.source === 'api') mine++;
    if (mine >= p.max_per_token)
      throw new HealthmeshError('limit_exceeded', `registration.max_per_token: token "${owner}" has ${mine} registrations, the most one token may have`);
    const inService = this.registry.instancesOf(service).length;
    if (inService >= p.max_per_service)
      throw new HealthmeshError(
        'limit_exceeded',
        `registration.max_per_service: service "${service}" has ${inService} instances, the most one service may have`,
      );
  }

  private async targetProblem(target: Target): Promise<string | undefined> {
    const { host, port, field } = target;
    if (port !== undefined && this.policy.allowed_ports && !portAllowed(port, this.policy.allowed_ports)) {
      return `${field}: port ${port} is not in registration.allowed_ports (${this.policy.allowed_ports.join(', ')})`;
    }
    let addresses: string[];
    if (isIP(host)) addresses = [host];
    else {
      try {
        addresses = await this.resolve(host);
      } catch (err) {
        return `${field}: the name "${host}" does not resolve (${(err as NodeJS.ErrnoException).code ?? 'lookup failed'}), so it cannot be checked against registration.allowed_networks`;
      }
      if (addresses.length === 0) return `${field}: the name "${host}" resolves to no address (rule: registration.allowed_networks)`;
    }
    for (const raw of addresses) {
      const ip = unmapIPv4(raw);
      const shown = ip === host ? `"${host}"` : `"${host}" (${ip})`;
      if (isUnspecified(ip)) return `${field}: ${shown} is an unspecified address, which reaches the daemon's own host (rule: registration.allowed_networks)`;
      const family = isIP(ip);
      const allowed = family === 4 ? this.networks.v4.check(ip, 'ipv4') : family === 6 ? this.networks.v6.check(ip, 'ipv6') : false;
      if (!allowed) return `${field}: ${shown} is outside registration.allowed_networks (${this.policy.allowed_networks.join(', ')})`;
    }
    return undefined;
  }
}

/** Host and port of `host:port`, `[v6]:port`, a bare host or a bare [v6]. */
export function splitHostPort(text: string): { host: string; port?: number } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (v6) return { host: v6[1]!, ...(v6[2] ? { port: Number(v6[2]) } : {}) };
  if (isIP(text) === 6) return { host: text };
  const colon = text.lastIndexOf(':');
  if (colon < 0) return { host: text };
  return { host: text.slice(0, colon), port: Number(text.slice(colon + 1)) };
}

/** Where a check connects, from its config and the instance address (what the runner would use). */
function checkTargets(check: CheckConfig, instanceAddress: string, field: string): Target[] {
  const instance = splitHostPort(instanceAddress);
  const withPort = (address: string | undefined, port: number | undefined, name: string, defaultPort?: number): Target => {
    const base = address !== undefined ? splitHostPort(address) : instance;
    const p = port ?? base.port ?? defaultPort;
    return { host: base.host, ...(p !== undefined ? { port: p } : {}), field: address !== undefined ? `${field}.${name}` : `${field} (instance address)` };
  };
  switch (check.kind) {
    case 'http': {
      if (!check.url) return [];
      const url = new URL(check.url);
      const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
      return [{ host: url.hostname.replace(/^\[|\]$/g, ''), port, field: `${field}.url` }];
    }
    case 'tcp':
    case 'grpc':
      return [withPort(check.address, check.port, 'address')];
    case 'tls':
      return [withPort(check.address, check.port, 'address', 443)];
    case 'dns':
      return [check.server !== undefined ? withPort(check.server, undefined, 'server', 53) : withPort(undefined, undefined, 'server')];
    case 'icmp':
      return check.host !== undefined ? [{ host: check.host, field: `${field}.host` }] : [];
    default:
      return [];
  }
}

function portAllowed(port: number, allowed: ReadonlyArray<number | string>): boolean {
  return allowed.some((a) => {
    if (typeof a === 'number') return a === port;
    const [from, to] = a.split('-').map(Number) as [number, number];
    return port >= from && port <= to;
  });
}

/** An IPv4-mapped IPv6 address (::ffff:10.0.0.1, ::ffff:a00:1) as the IPv4 address it is; anything else as given. */
export function unmapIPv4(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  // The URL parser writes IPv6 in one canonical form (lower case, zeros compressed, mapped IPv4 in hex).
  const canonical = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  const m = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (!m) return canonical;
  const hi = parseInt(m[1]!, 16);
  const lo = parseInt(m[2]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** 0.0.0.0/8 ("this network") and ::, which connect to the daemon's own host. */
function isUnspecified(ip: string): boolean {
  return ip === '::' || (isIP(ip) === 4 && ip.startsWith('0.'));
}
