/**
 * Feeds a {@link BalancerSet} from the in-process engine: membership from the
 * registry, statuses and scores from the rollup. It listens to the engine's
 * bus (checks added or removed, transitions, results) and refreshes only the
 * service concerned, coalesced to once per microtask turn, so a reload of a
 * thousand checks is one refresh per service. Scores drift with every result,
 * so they are also refreshed on a timer.
 *
 * It also closes the loop from passive to active health: while real traffic
 * to an instance keeps succeeding its checks run `adaptive_interval.stretch`
 * times less often; a failed request ends the stretch (the next run comes at
 * the normal interval), and when its breaker opens its checks run at once
 * (at most once per interval).
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Engine } from '../engine.js';
import type { Registry } from '../registry/registry.js';
import type { StatusRollup } from '../status/rollup.js';
import type { BalancerSet } from './balancer-set.js';
import type { BalancerEvent, UpstreamMember } from './service-balancer.js';

/** What the feed reads. */
export interface LocalFeedDeps {
  set: BalancerSet;
  engine: Pick<Engine, 'bus' | 'stretchIntervals' | 'clearStretch' | 'runNow'>;
  registry: Pick<Registry, 'instancesOf' | 'instance'>;
  rollup: Pick<StatusRollup, 'instance' | 'instanceScore'>;
  clock: Clock;
  /** How often scores are re-read, ms (default 2000). */
  scoreRefreshMs?: number;
}

/** Follows the engine and keeps every balancer's members current. */
export class LocalFeed {
  private readonly dirty = new Set<string>();
  /** When the checks of `service/instance` were last run on passive evidence (epoch ms). */
  private readonly confirmedAt = new Map<string, number>();
  private flushQueued = false;
  private offs: Array<() => void> = [];
  private timer: TimerHandle | undefined;
  private stopped = false;

  constructor(private readonly deps: LocalFeedDeps) {}

  /** Fill every balancer now and follow the engine from here on. */
  start(): void {
    const { engine, set } = this.deps;
    this.offs = [
      engine.bus.on('check-added', ({ spec }) => this.markDirty(spec.service)),
      engine.bus.on('check-removed', ({ spec }) => this.markDirty(spec.service)),
      // The rollup follows the same bus and was attached first, so it is current here.
      engine.bus.on('transition', ({ spec }) => this.markDirty(spec.service)),
      engine.bus.on('result', ({ spec, result }) => {
        if (result.status === 'HEALTHY') set.balancer(spec.service)?.activeCheckPassed(spec.instance);
      }),
      set.on(this.onBalancerEvent),
    ];
    this.refreshAll();
    const every = this.deps.scoreRefreshMs ?? 2000;
    const tick = (): void => {
      this.refreshAll();
      this.timer = this.deps.clock.setTimeout(tick, every);
    };
    this.timer = this.deps.clock.setTimeout(tick, every);
  }

  /** Refresh one service's members now. */
  refresh(service: string): void {
    const { registry, rollup, set } = this.deps;
    const members: UpstreamMember[] = registry.instancesOf(service).map((r) => ({
      id: r.id,
      address: r.address,
      weight: r.weight,
      ...(r.zone !== undefined ? { zone: r.zone } : {}),
      status: rollup.instance(r.service, r.id),
      score: rollup.instanceScore(r.service, r.id),
    }));
    set.setMembers(service, members);
  }

  refreshAll(): void {
    for (const service of this.deps.set.services()) this.refresh(service);
  }

  stop(): void {
    this.stopped = true;
    for (const off of this.offs) off();
    this.offs = [];
    if (this.timer !== undefined) this.deps.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private markDirty(service: string): void {
    if (!this.deps.set.balancer(service)) return;
    this.dirty.add(service);
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => {
      this.flushQueued = false;
      if (this.stopped) return;
      const services = [...this.dirty];
      this.dirty.clear();
      for (const s of services) this.refresh(s);
    });
  }

  private readonly onBalancerEvent = (event: BalancerEvent): void => {
    if (event.type === 'passive') this.onPassive(event.service, event.id, event.healthy, event.at);
    else if (event.type === 'breaker' && event.to === 'open') this.confirmNow(event.service, event.id, event.at);
    // Not on an ejection: with uneject_on_active_healthy a passing probe right away would end it at once.
    else if (event.type === 'outlier' && event.change.type === 'eject') this.deps.engine.clearStretch(`${event.service}/${event.change.id}`);
  };

  private onPassive(service: string, id: string, healthy: boolean, at: number): void {
    const settings = this.deps.set.configOf(service)?.adaptive_interval;
    if (!settings || settings.stretch <= 1) return;
    const key = `${service}/${id}`;
    if (healthy) {
      const specs = this.deps.registry.instance(key)?.checks ?? [];
      // Good for a few stretched intervals; renewed every min_successes successes.
      const longest = specs.reduce((max, s) => Math.max(max, s.intervalMs), 0);
      this.deps.engine.stretchIntervals(key, settings.stretch, at + 2 * longest * settings.stretch);
    } else {
      // One failed request is weak evidence: back to the normal interval, no extra probe.
      this.deps.engine.clearStretch(key);
    }
  }

  /**
   * Strong passive evidence (a breaker opened): end any stretch
   * and run the instance's checks now, at most once per check interval so a
   * flapping breaker cannot turn into a stream of probes.
   */
  private confirmNow(service: string, id: string, at: number): void {
    const key = `${service}/${id}`;
    const specs = this.deps.registry.instance(key)?.checks ?? [];
    this.deps.engine.clearStretch(key);
    const shortest = specs.reduce((min, s) => Math.min(min, s.intervalMs), Infinity);
    const last = this.confirmedAt.get(key);
    if (last !== undefined && at - last < shortest) return;
    this.confirmedAt.set(key, at);
    if (this.confirmedAt.size > 10_000) this.confirmedAt.clear(); // a bound; losing it costs at most one extra probe each
    for (const spec of specs) this.deps.engine.runNow(spec.id);
  }
}
