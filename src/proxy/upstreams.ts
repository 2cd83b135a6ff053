import { parseHostPort } from '../checks/probe-support.js';

/**
 * What the proxy needs from load balancing: per service, an instance for a
 * request and a place to report how the request went. Implemented by
 * balancer/balancer-set.ts over the in-process engine or a followed daemon.
 */

/** How one upstream attempt ended. */
export interface AttemptOutcome {
  /** The attempt counts as a success for breakers and outlier detection. */
  ok: boolean;
  /** Time to response headers (or to the failure), ms. */
  latencyMs: number;
  /** HTTP status; omitted for transport failures (refused, reset, timeout), which count as 503. */
  status?: number;
}

/** One instance chosen for an attempt. */
export interface PickedUpstream {
  /** Instance id, unique within its service. */
  readonly id: string;
  /** host:port to send the request to. */
  readonly address: string;
}

/** The balancer of one service, as the proxy uses it. */
export interface UpstreamBalancer {
  /**
   * Request header whose value is the hash key (consistent-hash pickers);
   * undefined: the client address is the key.
   */
  readonly hashHeader?: string;
  /**
   * An instance for this attempt, avoiding the ids in `exclude` (instances
   * already tried by this request) when any other can be picked. Counts as a
   * request in flight until report() or release().
   */
  pick(key?: string, exclude?: ReadonlySet<string>): PickedUpstream | undefined;
  /** The attempt to `id` ended with this outcome. */
  report(id: string, outcome: AttemptOutcome): void;
  /** The attempt to `id` ended without an outcome worth judging (the client went away). */
  release(id: string): void;
  /** Whether `id` is still an instance of the service (lets per-instance metrics of departed instances go). */
  has?(id: string): boolean;
}

/** Balancers by service name. */
export interface ProxyUpstreams {
  balancer(service: string): UpstreamBalancer | undefined;
}

/** Where to connect for an instance address (`host:port`, `[v6]:port`; no port: 80). A malformed one is tried as a host name, and fails like a refused instance. */
export function connectTarget(address: string): { host: string; port: number } {
  try {
    const { host, port } = parseHostPort(address);
    return { host, port: port ?? 80 };
  } catch {
    return { host: address, port: 80 };
  }
}
