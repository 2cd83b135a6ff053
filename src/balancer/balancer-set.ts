/**
 * One {@link ServiceBalancer} per service, built from each service's
 * `balancer:` config and fed members by a feed (local-feed.ts for the
 * in-process engine, follow-feed.ts for a running daemon). It is what the
 * proxy, the API and the metrics look up balancers in.
 */
import type { Clock } from '../core/clock.js';
import type { Random } from '../core/random.js';
import type { BalancerConfig } from '../config/balancer.js';
import type { ProxyUpstreams } from './types.js';
import { ServiceBalancer, type BalancerEvent, type BalancerSnapshot, type UpstreamMember } from './service-balancer.js';

/** Options of {@link BalancerSet}. */
export interface BalancerSetOptions {
  clock: Clock;
  random: Random;
  onEvent?: (event: BalancerEvent) => void;
}

/** Balancers by service name. */
export class BalancerSet implements ProxyUpstreams {
  private readonly balancers = new Map<string, { balancer: ServiceBalancer; config: BalancerConfig; configJson: string }>();
  private readonly listeners = new Set<(event: BalancerEvent) => void>();

  constructor(private readonly options: BalancerSetOptions) {
    if (options.onEvent) this.listeners.add(options.onEvent);
  }

  /**
   * Make the set match the services' configs: new services get a balancer,
   * removed ones lose theirs, a changed config rebuilds that balancer
   * (breaker and outlier history start over). Returns the services whose
   * balancer is new, for the feed to fill.
   */
  configure(configs: ReadonlyMap<string, BalancerConfig>): string[] {
    const fresh: string[] = [];
    for (const [service, entry] of this.balancers) {
      if (!configs.has(service)) {
        entry.balancer.close();
        this.balancers.delete(service);
      }
    }
    for (const [service, config] of configs) {
      const configJson = JSON.stringify(config);
      const entry = this.balancers.get(service);
      if (entry?.configJson === configJson) continue;
      entry?.balancer.close();
      const balancer = new ServiceBalancer({ service, config, clock: this.options.clock, random: this.options.random, onEvent: this.emit });
      this.balancers.set(service, { balancer, config, configJson });
      fresh.push(service);
    }
    return fresh;
  }

  balancer(service: string): ServiceBalancer | undefined {
    return this.balancers.get(service)?.balancer;
  }

  /** Set a service's members (ignored for a service without a balancer). */
  setMembers(service: string, members: readonly UpstreamMember[]): void {
    this.balancers.get(service)?.balancer.setMembers(members);
  }

  /** The config a service's balancer runs with. */
  configOf(service: string): BalancerConfig | undefined {
    return this.balancers.get(service)?.config;
  }

  services(): string[] {
    return [...this.balancers.keys()];
  }

  snapshot(service: string): BalancerSnapshot | undefined {
    return this.balancers.get(service)?.balancer.snapshot();
  }

  /** Be told of every balancer event; returns the unsubscribe function. */
  on(listener: (event: BalancerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    for (const { balancer } of this.balancers.values()) balancer.close();
    this.balancers.clear();
  }

  private readonly emit = (event: BalancerEvent): void => {
    for (const listener of this.listeners) listener(event);
  };
}

/** The balancer config of every service in a config. */
export function balancerConfigs(config: { services: Record<string, { balancer: BalancerConfig }> }): Map<string, BalancerConfig> {
  return new Map(Object.entries(config.services).map(([name, s]) => [name, s.balancer]));
}
