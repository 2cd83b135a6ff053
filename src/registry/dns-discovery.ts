import { resolveSrv } from '../checks/dns.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { hostPort } from '../config/host-port.js';
import type { Config, DnsSrvDiscovery } from '../config/schema.js';
import type { Registry } from './registry.js';

/** Looks up SRV records; injectable for tests. */
export type SrvLookup = (server: string, query: string) => Promise<Array<{ target: string; port: number; weight: number }>>;

/**
 * Keeps each service's discovered instances in step with its DNS SRV
 * records: read on start, then every `interval`. A failed lookup keeps the
 * last known set (a flaky resolver must not empty a service).
 */
export class DnsDiscovery {
  private timers = new Map<string, TimerHandle>();
  private stopped = false;

  constructor(
    private readonly registry: Registry,
    private readonly clock: Clock,
    private readonly logger?: Logger,
    private readonly lookup: SrvLookup = (server, query) => resolveSrv(server, query),
    /** Why a found address may not be probed (registration.allowed_networks, see admission.ts), or undefined. */
    private readonly admit?: (address: string) => Promise<string | undefined>,
  ) {}

  /** Start (or restart after a reload) discovery for every service that asks for it. */
  apply(config: Config): void {
    this.stopTimers();
    this.stopped = false;
    for (const [service, svc] of Object.entries(config.services)) {
      if (svc.discover?.dns_srv) void this.refresh(service, svc.discover.dns_srv);
    }
  }

  /** One lookup now; schedules the next. Resolves when this lookup is applied. */
  async refresh(service: string, settings: DnsSrvDiscovery): Promise<void> {
    try {
      const records = await this.lookup(settings.server, settings.query);
      if (this.stopped) return;
      const found: Array<{ id: string; address: string; weight: number }> = [];
      for (const r of records) {
        const host = r.target.replace(/\.$/, '');
        const address = host.includes(':') ? `[${host}]:${r.port}` : `${host}:${r.port}`;
        // The same check as a configured or registered address: a record that cannot be probed (port 0, target ".") is left out, and said.
        const valid = hostPort.safeParse(address);
        const refused = valid.success && this.admit ? await this.admit(address) : undefined;
        if (refused) this.logger?.warn({ service, query: settings.query, target: r.target, port: r.port }, `SRV record of ${service} left out: ${refused}`);
        else if (valid.success) found.push({ id: address, address, weight: Math.max(1, r.weight) });
        else
          this.logger?.warn(
            { service, query: settings.query, target: r.target, port: r.port },
            `SRV record of ${service} left out: ${valid.error.issues[0]?.message}`,
          );
      }
      await this.registry.setDiscovered(service, found);
    } catch (err) {
      this.logger?.warn({ service, query: settings.query, err: (err as Error).message }, `SRV lookup for ${service} failed; keeping the last known instances`);
    }
    if (this.stopped) return;
    this.timers.set(
      service,
      this.clock.setTimeout(() => void this.refresh(service, settings), settings.interval),
    );
  }

  stop(): void {
    this.stopped = true;
    this.stopTimers();
  }

  private stopTimers(): void {
    for (const t of this.timers.values()) this.clock.clearTimeout(t);
    this.timers.clear();
  }
}
