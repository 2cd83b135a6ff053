/**
 * Feeds a {@link BalancerSet} from the in-process engine: membership from the
 * registry, statuses and scores from the rollup. It follows checks added or
 * removed on the engine's bus and instance status changes from the rollup
 * (so it never reads the rollup before the rollup has seen a transition,
 * whatever the order of bus subscriptions), and refreshes only the service
 * concerned, coalesced to once per microtask turn: a reload of a thousand
 * checks is one refresh per service. Membership and instance fields (weight,
 * address, zone) follow the registry's change listener. Scores drift with
 * every result, so they are also refreshed on a timer, but only for the
 * instances that had results since the last tick: a tick costs what changed,
 * not the mesh (at 10,000 checks the full re-read every 2 s was about a fifth
 * of the daemon's own JS time).
 *
 * It also passes what the balancers learn from real traffic to the engine,
 * through the engine's passive-evidence port (scheduler/passive-evidence.ts):
 * succeeding traffic stretches an instance's check interval by the service's
 * `adaptive_interval.stretch`, a failed request ends the stretch, and an
 * opened breaker has the instance's checks run at once. Calls go one way:
 * feed → engine.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import type { EventBus } from '../core/events.js';
import type { Registry } from '../registry/registry.js';
import type { PassiveEvidence } from '../scheduler/passive-evidence.js';
import type { HealthEvents } from '../status/health-events.js';
import type { RollupChange, StatusRollup } from '../status/rollup.js';
import type { BalancerSet } from './balancer-set.js';
import type { BalancerEvent, UpstreamMember } from './service-balancer.js';

/** What the feed reads, and the one port it tells. */
export interface LocalFeedDeps {
  set: BalancerSet;
  engine: { bus: EventBus<HealthEvents>; passive: PassiveEvidence };
  registry: Pick<Registry, 'instancesOf' | 'onChange'>;
  rollup: Pick<StatusRollup, 'instance' | 'instanceScore' | 'onChange'>;
  clock: Clock;
  /** How often scores are re-read, ms (default 2000). */
  scoreRefreshMs?: number;
}

/** Follows the engine and keeps every balancer's members current. */
export class LocalFeed {
  private readonly dirty = new Set<string>();
  /** Instances with results since the last score tick, by service: what the tick re-reads. */
  private scored = new Map<string, Set<string>>();
  private flushQueued = false;
  private offs: Array<() => void> = [];
  private timer: TimerHandle | undefined;
  private stopped = false;

  constructor(private readonly deps: LocalFeedDeps) {}

  /** Fill every balancer now and follow the engine from here on. */
  start(): void {
    const { engine, set, rollup, registry } = this.deps;
    this.offs = [
      engine.bus.on('check-added', ({ spec }) => this.markDirty(spec.service)),
      engine.bus.on('check-removed', ({ spec }) => this.markDirty(spec.service)),
      rollup.onChange((change) => this.onRollupChange(change)),
      // Instances without checks (DNS discovery) and field changes on reload move no check event.
      registry.onChange((service) => this.markDirty(service)),
      engine.bus.on('result', ({ spec, result }) => {
        const balancer = set.balancer(spec.service);
        if (!balancer) return;
        if (result.status === 'HEALTHY') balancer.activeCheckPassed(spec.instance);
        this.noteScored(spec.service, spec.instance);
      }),
      set.on(this.onBalancerEvent),
    ];
    this.refreshAll();
    const every = this.deps.scoreRefreshMs ?? 2000;
    const tick = (): void => {
      this.refreshScores();
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

  /** Refresh every service's members now (costs the whole mesh: start and tests). */
  refreshAll(): void {
    for (const service of this.deps.set.services()) this.refresh(service);
  }

  /** Re-read the scores of the instances that had results since the last call, and only theirs. */
  refreshScores(): void {
    const { set, rollup } = this.deps;
    const scored = this.scored;
    this.scored = new Map();
    for (const [service, ids] of scored) set.balancer(service)?.updateScores(ids, (id) => rollup.instanceScore(service, id));
  }

  stop(): void {
    this.stopped = true;
    for (const off of this.offs) off();
    this.offs = [];
    this.scored.clear();
    if (this.timer !== undefined) this.deps.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private noteScored(service: string, instance: string): void {
    const ids = this.scored.get(service);
    if (ids) ids.add(instance);
    else this.scored.set(service, new Set([instance]));
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

  /** An instance changed status: its service's members change (the rollup is current: it tells us). */
  private onRollupChange(change: RollupChange): void {
    if (change.level === 'instance') this.markDirty(change.id.slice(0, change.id.indexOf('/')));
  }

  private readonly onBalancerEvent = (event: BalancerEvent): void => {
    const passive = this.deps.engine.passive;
    if (event.type === 'passive') {
      const stretch = this.deps.set.configOf(event.service)?.adaptive_interval.stretch ?? 1;
      if (stretch <= 1) return;
      if (event.healthy) passive.succeeding(`${event.service}/${event.id}`, stretch);
      else passive.failed(`${event.service}/${event.id}`);
    } else if (event.type === 'breaker' && event.to === 'open') {
      passive.suspect(`${event.service}/${event.id}`);
    } else if (event.type === 'outlier' && event.change.type === 'eject') {
      // Not suspect(): with uneject_on_active_healthy a passing probe right away would end the ejection at once.
      passive.failed(`${event.service}/${event.change.id}`);
    }
  };
}
