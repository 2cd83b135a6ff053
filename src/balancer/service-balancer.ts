/**
 * The balancer of one service: active health (statuses and scores pushed in
 * by a feed), passive health (breaker and outlier detection fed by request
 * outcomes), slow start, zone preference and panic mode, over one picker.
 *
 * The picker's membership is rebuilt only when something that decides it
 * changes (a member, a status, an ejection, a breaker opening or closing, the
 * slow-start ramp); a pick is the picker's O(1)/O(log n) pick plus a flag
 * test, and allocates nothing.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Random } from '../core/random.js';
import type { HealthStatus } from '../core/status.js';
import type { BalancerConfig } from '../config/balancer.js';
import { exponentialBackoff } from './backoff.js';
import { CircuitBreaker, type BreakerState } from './breaker.js';
import { OutlierDetection, type OutlierChange } from './outlier.js';
import { applyScore } from './member-score.js';
import { choosePanic } from './panic.js';
import { pickerKinds } from './pickers/index.js';
import { LeastLatencyPicker } from './pickers/least-latency.js';
import { P2cPicker } from './pickers/p2c.js';
import { sameOrder } from './same-order.js';
import { slowStartFactor } from './slow-start.js';
import { consecutiveFailures, failureRatio } from './trip.js';
import type { AttemptOutcome, Instance, PickedUpstream, Picker, UpstreamBalancer } from './types.js';

import type { BalancerEvent, BalancerSnapshot, MemberSnapshot, ServiceBalancerOptions, UpstreamMember } from './service-balancer-types.js';

export type { BalancerEvent, BalancerSnapshot, MemberSnapshot, ServiceBalancerOptions, UpstreamMember } from './service-balancer-types.js';

/** Where a Node keeps its member's state: a symbol, so JSON.stringify of a pick shows only the public fields. */
const STATE = Symbol('member');

/** A member with the object the picker returns; kept across rebuilds while its identity is unchanged. */
interface Node extends Instance, PickedUpstream {
  readonly id: string;
  readonly address: string;
  readonly weight: number;
  readonly zone?: string;
  /** Its state, so a pick needs no lookup by id. */
  readonly [STATE]: MemberState;
}

/** What the snapshot shows of a breaker not made yet: closed, never opened. */
const UNUSED_BREAKER = { kind: 'closed', opens: 0, reopensAt: 0 } as const;

interface MemberState {
  node: Node;
  status: HealthStatus;
  score: number;
  activeHealthy: boolean;
  /** Epoch ms when the slow-start ramp began, or null. */
  rampFrom: number | null;
  /**
   * null: breakers are off; undefined: not made yet. A breaker is made on the
   * member's first outcome: in a mesh that is only monitored, no instance
   * ever gets one, and each costs about 0.7 KB (0.07 GB at 100,000).
   */
  breaker: CircuitBreaker | null | undefined;
  breakerKind: BreakerState['kind'];
  inRotation: boolean;
  inFlight: number;
  /** Attempts in flight that hold a half-open trial slot; released ones give it back. */
  trialsHeld: number;
  picks: number;
  successes: number;
  failures: number;
  passiveStreak: number;
}

const takesTraffic = (s: HealthStatus): boolean => s === 'HEALTHY' || s === 'DEGRADED';

/** Health-aware balancer of one service; implements the proxy's {@link UpstreamBalancer}. */
export class ServiceBalancer implements UpstreamBalancer {
  readonly service: string;
  readonly hashHeader: string | undefined;
  /**
   * A consistent-hash picker: weights stay as configured (no score factor,
   * no slow start), as in Envoy, since every weight change rebuilds the
   * table (~0.3 s at 10k instances) and moves keys.
   */
  private readonly hashing: boolean;
  private readonly config: BalancerConfig;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly onEvent: (event: BalancerEvent) => void;
  private readonly members = new Map<string, MemberState>();
  private readonly picker: Picker;
  /** The picker again when it counts requests in flight (P2C) or observes latency (least-latency): resolved once, not per call. */
  private readonly inFlightPicker: P2cPicker | null;
  private readonly latencyPicker: LeastLatencyPicker | null;
  private readonly outlier: OutlierDetection | null;
  private panic = false;
  private healthyShare = 0;
  private usingLocalZone = false;
  private initialised = false;
  private rampTimer: TimerHandle | undefined;
  private breakerTimer: { handle: TimerHandle; at: number } | undefined;
  /** The picker's membership, for the fallback scan when picks keep hitting excluded ids. */
  private rotation: Node[] = [];
  private closed = false;
  /** Some member has taken traffic since the start: before that, becoming healthy is a cold start, not a return (no slow start). */
  private everUsable = false;
  /** A panic event went out and its end has not yet. */
  private panicAnnounced = false;
  /**
   * A rebuild or a setMembers is running: a rebuild asked for meanwhile (a
   * breaker reopening while states are read, an outlier callback mid-update)
   * only sets rebuildAgain, and the running one repeats or does it at its end.
   */
  private rebuilding = false;
  private rebuildAgain = false;

  constructor(options: ServiceBalancerOptions) {
    this.service = options.service;
    this.config = options.config;
    this.hashHeader = options.config.hash_key?.toLowerCase();
    this.hashing = options.config.picker === 'maglev';
    this.clock = options.clock;
    this.random = options.random;
    this.onEvent = options.onEvent ?? (() => {});
    this.picker = pickerKinds[this.config.picker]([], { clock: this.clock, random: options.random, weight: this.weightOf });
    this.inFlightPicker = this.picker instanceof P2cPicker ? this.picker : null;
    this.latencyPicker = this.picker instanceof LeastLatencyPicker ? this.picker : null;
    const o = this.config.outlier;
    this.outlier = o.enabled
      ? new OutlierDetection({
          clock: this.clock,
          config: {
            intervalMs: o.interval,
            baseEjectionTimeMs: o.base_ejection_time,
            maxEjectionTimeMs: o.max_ejection_time,
            maxEjectionPercent: o.max_ejection_percent,
            consecutive5xx: o.consecutive_5xx,
            consecutiveGatewayFailure: o.consecutive_gateway_failure,
            successRate: o.success_rate && {
              minimumHosts: o.success_rate.minimum_hosts,
              requestVolume: o.success_rate.request_volume,
              stdevFactor: o.success_rate.stdev_factor,
            },
            failurePercentage: o.failure_percentage && {
              threshold: o.failure_percentage.threshold,
              minimumHosts: o.failure_percentage.minimum_hosts,
              requestVolume: o.failure_percentage.request_volume,
            },
            unejectOnActiveHealthy: o.uneject_on_active_healthy,
          },
          onChange: this.onOutlierChange,
        })
      : null;
    this.outlier?.start();
  }

  /**
   * Replace the members and their active health. Ids that stay keep their
   * breaker, outlier history and counters. An instance that starts taking
   * traffic after the first call ramps up under slow start.
   */
  setMembers(list: readonly UpstreamMember[]): void {
    this.rebuilding = true; // callbacks fired while applying (outlier returns) wait for the end
    this.rebuildAgain = false;
    let changed: boolean;
    try {
      changed = this.applyMembers(list);
    } finally {
      this.rebuilding = false;
    }
    if (changed || this.rebuildAgain) this.rebuild();
  }

  /** Apply a member list; returns whether anything that decides the rotation changed. */
  private applyMembers(list: readonly UpstreamMember[]): boolean {
    const now = this.clock.now();
    const seen = new Set<string>();
    // Feeds call this often (every transition, and on a timer for drifting scores): rebuild only on real change.
    let changed = !this.initialised;
    const warm = this.everUsable;
    for (const m of list) {
      seen.add(m.id);
      let st = this.members.get(m.id);
      if (st && (st.node.address !== m.address || st.node.weight !== m.weight || st.node.zone !== m.zone)) {
        st.node = makeNode(m, st);
        changed = true;
      }
      if (!st) {
        st = {
          node: undefined as unknown as Node, // set just below: the node points back at its state
          status: m.status,
          score: m.score,
          activeHealthy: false,
          rampFrom: null,
          breaker: this.config.breaker.enabled ? undefined : null,
          breakerKind: 'closed',
          inRotation: false,
          inFlight: 0,
          trialsHeld: 0,
          picks: 0,
          successes: 0,
          failures: 0,
          passiveStreak: 0,
        };
        st.node = makeNode(m, st);
        this.members.set(m.id, st);
        this.outlier?.addHost(m.id);
        changed = true;
      }
      const healthy = takesTraffic(m.status);
      if (healthy && !st.activeHealthy && warm) st.rampFrom = now;
      if (healthy) this.everUsable = true;
      if (healthy && this.outlier?.isEjected(m.id) && m.status === 'HEALTHY' && st.status !== 'HEALTHY') this.outlier.onActiveHealthy(m.id);
      if (healthy !== st.activeHealthy || m.status !== st.status) changed = true;
      if (applyScore(st, m.score, this.config.use_score)) changed = true;
      st.activeHealthy = healthy;
      st.status = m.status;
    }
    for (const id of [...this.members.keys()]) {
      if (!seen.has(id)) {
        this.members.delete(id);
        this.outlier?.removeHost(id);
        changed = true;
      }
    }
    this.initialised = true;
    return changed;
  }

  /** New scores (0–100) of some members only, with no pass over the list (a feed's timer refresh); unknown ids are skipped. */
  updateScores(ids: Iterable<string>, scoreOf: (id: string) => number): void {
    let changed = false;
    for (const id of ids) {
      const st = this.members.get(id);
      if (st && applyScore(st, scoreOf(id), this.config.use_score)) changed = true;
    }
    if (changed) this.rebuild();
  }

  /** An active check of `id` passed: an ejected instance may return early (outlier.uneject_on_active_healthy). */
  activeCheckPassed(id: string): void {
    if (this.closed) return;
    if (this.members.has(id) && this.outlier?.isEjected(id)) this.outlier.onActiveHealthy(id);
  }

  /** Whether `id` is a member. */
  has(id: string): boolean {
    return this.members.has(id);
  }

  pick(key?: string, exclude?: ReadonlySet<string>): PickedUpstream | undefined {
    let k = key;
    for (let tries = 0; tries < 3; tries++) {
      const node = this.picker.pick(k) as Node | undefined;
      if (node === undefined) return undefined;
      if (this.admit(node, exclude)) return node;
      // A hash key would choose the same instance again: the other tries go by weight instead.
      k = undefined;
    }
    // Picks keep landing on excluded or refusing instances (few members): scan from a random place, so no one instance takes all of them.
    const n = this.rotation.length;
    const start = Math.floor(this.random() * n);
    for (let i = 0; i < n; i++) {
      const node = this.rotation[(start + i) % n]!;
      if (this.admit(node, exclude)) return node;
    }
    return undefined;
  }

  /** The attempt to `id` that pick() returned ended with this outcome. */
  report(id: string, outcome: AttemptOutcome): void {
    const st = this.members.get(id);
    if (!st || this.closed) return; // left (or the balancer was replaced) while the request was in flight
    this.end(st, false);
    this.observeState(st, outcome);
  }

  /** The attempt to `id` that pick() returned ended without an outcome worth judging (the client went away). */
  release(id: string): void {
    const st = this.members.get(id);
    if (st && !this.closed) this.end(st, true);
  }

  /**
   * An outcome of a request this balancer did not pick (a client balancing on
   * its own, POST …/balancer/reports): counts for breaker, outlier detection
   * and latency, but not for requests in flight.
   */
  observe(id: string, outcome: AttemptOutcome): void {
    const st = this.members.get(id);
    if (st && !this.closed) this.observeState(st, outcome);
  }

  private observeState(st: MemberState, outcome: AttemptOutcome): void {
    const id = st.node.id;
    if (outcome.ok) st.successes++;
    else st.failures++;
    this.latencyPicker?.observe(id, outcome.latencyMs);
    this.breakerOf(st)?.report({ ok: outcome.ok, latencyMs: outcome.latencyMs });
    this.outlier?.report(id, outcome.status ?? (outcome.ok ? 200 : 503));
    this.notePassive(st, outcome.ok);
  }

  /** The live state, for the API and metrics. */
  snapshot(): BalancerSnapshot {
    const now = this.clock.now();
    const instances: MemberSnapshot[] = [];
    for (const st of this.members.values()) {
      const b = st.breaker === undefined ? UNUSED_BREAKER : st.breaker?.state;
      const ramp = this.rampFactor(st, now);
      instances.push({
        id: st.node.id,
        address: st.node.address,
        zone: st.node.zone ?? null,
        status: st.status,
        score: st.score,
        usable: this.usable(st),
        inRotation: st.inRotation,
        weight: st.node.weight,
        effectiveWeight: st.inRotation ? this.weightOf(st.node) : 0,
        slowStart: ramp < 1 && st.rampFrom !== null ? { factor: ramp, endsAt: st.rampFrom + this.config.slow_start.window } : null,
        inFlight: st.inFlight,
        picks: st.picks,
        successes: st.successes,
        failures: st.failures,
        breaker: b ? { state: b.kind, opens: b.opens, reopensAt: b.kind === 'open' ? b.reopensAt : null } : null,
        outlier: this.outlier ? this.outlier.explain(st.node.id) : null,
      });
    }
    return {
      service: this.service,
      picker: this.config.picker,
      panic: this.panic,
      healthyShare: this.healthyShare,
      panicThreshold: this.config.panic_threshold / 100,
      zone: this.config.zone ? { local: this.config.zone.local, usingLocal: this.usingLocalZone } : null,
      instances,
    };
  }

  /** Whether the service balances over every instance (panic mode). */
  get inPanic(): boolean {
    return this.panic;
  }

  /** Stop every timer. */
  close(): void {
    this.closed = true;
    this.outlier?.stop();
    if (this.rampTimer !== undefined) this.clock.clearTimeout(this.rampTimer);
    if (this.breakerTimer !== undefined) this.clock.clearTimeout(this.breakerTimer.handle);
    this.rampTimer = undefined;
    this.breakerTimer = undefined;
  }

  // --- membership -----------------------------------------------------------

  private usable(st: MemberState): boolean {
    return st.node.weight > 0 && st.activeHealthy && st.breakerKind !== 'open' && !(this.outlier?.isEjected(st.node.id) ?? false);
  }

  /** Recompute who is in rotation: usable members, the local zone if it has enough, everything in panic. */
  private rebuild(): void {
    if (this.closed) return;
    if (this.rebuilding) {
      this.rebuildAgain = true;
      return;
    }
    this.rebuilding = true;
    try {
      do {
        this.rebuildAgain = false;
        this.rebuildOnce();
      } while (this.rebuildAgain);
    } finally {
      this.rebuilding = false;
    }
  }

  private rebuildOnce(): void {
    const now = this.clock.now();
    const weighted: MemberState[] = [];
    for (const st of this.members.values()) {
      this.syncBreaker(st);
      if (st.node.weight > 0) weighted.push(st);
    }
    const decision = choosePanic(weighted, (st) => this.usable(st), this.config.panic_threshold / 100);
    const { panic, healthyShare: share } = decision;
    let chosen = decision.members;
    const zone = this.config.zone;
    this.usingLocalZone = false;
    if (zone && !panic) {
      const local = weighted.filter((st) => st.node.zone === zone.local);
      const localUsable = chosen.filter((st) => st.node.zone === zone.local);
      if (local.length > 0 && localUsable.length > 0 && (100 * localUsable.length) / local.length >= zone.min_healthy_percent) {
        chosen = localUsable;
        this.usingLocalZone = true;
      }
    }
    // A cold start (nothing usable yet, every instance UNKNOWN) is panic by the numbers, but not news.
    if (panic && !this.panicAnnounced && this.everUsable) {
      this.panicAnnounced = true;
      this.onEvent({ type: 'panic', service: this.service, panic, healthyShare: share, at: now });
    } else if (!panic && this.panicAnnounced) {
      this.panicAnnounced = false;
      this.onEvent({ type: 'panic', service: this.service, panic, healthyShare: share, at: now });
    }
    this.panic = panic;
    this.healthyShare = share;
    for (const st of this.members.values()) st.inRotation = false;
    for (const st of chosen) st.inRotation = true;
    const rotation = chosen.map((st) => st.node);
    // Same members in the same order: only weights may have moved (a Maglev table costs ~0.5 s at 10k to rebuild).
    if (sameOrder(rotation, this.rotation)) this.picker.reweight();
    else this.picker.update(rotation);
    this.rotation = rotation;
    this.armRamp(now);
    this.armBreakerReopen();
  }

  /** Effective weight: configured × score factor × slow-start factor (evaluated on rebuild, not per pick). */
  private readonly weightOf = (inst: Instance): number => {
    const st = (inst as Node)[STATE];
    const scoreFactor = this.config.use_score && !this.hashing ? Math.max(0.05, st.score / 100) : 1;
    return st.node.weight * scoreFactor * this.rampFactor(st, this.clock.now());
  };

  private rampFactor(st: MemberState, now: number): number {
    const s = this.config.slow_start;
    if (st.rampFrom === null || s.window <= 0 || this.hashing) return 1;
    const f = slowStartFactor(st.rampFrom, now, { windowMs: s.window, aggression: s.aggression, minFactor: s.min_weight_percent / 100 });
    if (f >= 1) st.rampFrom = null;
    return f;
  }

  /** While anyone ramps, reweight 20 times over the window. */
  private armRamp(now: number): void {
    if (this.rampTimer !== undefined) return;
    let ramping = false;
    for (const st of this.members.values()) if (st.inRotation && this.rampFactor(st, now) < 1) ramping = true;
    if (!ramping) return;
    this.rampTimer = this.clock.setTimeout(
      () => {
        this.rampTimer = undefined;
        this.picker.reweight();
        this.armRamp(this.clock.now());
      },
      Math.max(50, this.config.slow_start.window / 20),
    );
  }

  // --- breakers --------------------------------------------------------------

  /** The member's breaker, made on its first outcome; null when breakers are off. */
  private breakerOf(st: MemberState): CircuitBreaker | null {
    if (st.breaker === undefined) st.breaker = this.makeBreaker(st.node.id);
    return st.breaker;
  }

  private makeBreaker(id: string): CircuitBreaker | null {
    const b = this.config.breaker;
    if (!b.enabled) return null;
    const trip =
      b.trip === 'ratio'
        ? failureRatio({ clock: this.clock, windowMs: b.window, threshold: b.failure_ratio, minRequests: b.min_requests })
        : consecutiveFailures({ threshold: b.consecutive_failures });
    return new CircuitBreaker({
      clock: this.clock,
      trip,
      backoff: exponentialBackoff({ baseMs: b.open_for, maxMs: b.max_open_for }),
      halfOpenMaxTrials: b.half_open_trials,
      ...(b.slow_call !== undefined ? { slowCallMs: b.slow_call } : {}),
      onStateChange: (change) => {
        const st = this.members.get(id);
        if (!st || st.breaker === null) return;
        const wasOpen = st.breakerKind === 'open';
        st.breakerKind = change.to.kind;
        this.onEvent({
          type: 'breaker',
          service: this.service,
          id,
          from: change.from.kind,
          to: change.to.kind,
          at: change.at,
          ...(change.figures ? { figures: change.figures } : {}),
        });
        // Open ↔ not open changes who may be picked.
        if (wasOpen !== (change.to.kind === 'open')) this.rebuild();
      },
    });
  }

  /** Read the breaker's state so open → half-open (lazy in the breaker) is seen. */
  private syncBreaker(st: MemberState): void {
    if (st.breaker) st.breakerKind = st.breaker.state.kind;
  }

  /** One timer at the earliest reopen time among open breakers; it rebuilds so half-open members get trials. */
  private armBreakerReopen(): void {
    let earliest = Infinity;
    for (const st of this.members.values()) {
      const s = st.breaker?.state;
      if (s?.kind === 'open' && s.reopensAt < earliest) earliest = s.reopensAt;
    }
    if (this.breakerTimer && this.breakerTimer.at === earliest) return;
    if (this.breakerTimer) this.clock.clearTimeout(this.breakerTimer.handle);
    this.breakerTimer = undefined;
    if (earliest === Infinity) return;
    const handle = this.clock.setTimeout(
      () => {
        this.breakerTimer = undefined;
        this.rebuild();
      },
      Math.max(0, earliest - this.clock.now()),
    );
    this.breakerTimer = { handle, at: earliest };
  }

  /** Count a pick unless excluded; a half-open breaker lets only its trial calls through. */
  private admit(node: Node, exclude: ReadonlySet<string> | undefined): boolean {
    if (exclude?.has(node.id)) return false;
    // Nodes of members that left are out of the picker at once (setMembers rebuilds), so the state is current.
    const st = node[STATE];
    // In panic every instance takes traffic, open breakers included (Envoy's panic ignores health the same way).
    if (st.breaker && st.breakerKind !== 'closed' && !this.panic) {
      if (!st.breaker.tryAcquire()) return false;
      st.trialsHeld++;
    }
    st.picks++;
    st.inFlight++;
    this.inFlightPicker?.begin(node.id);
    return true;
  }

  /** An attempt ended; a released half-open trial frees its slot. */
  private end(st: MemberState, released: boolean): void {
    if (st.inFlight > 0) st.inFlight--;
    this.inFlightPicker?.end(st.node.id);
    if (st.trialsHeld > 0) {
      st.trialsHeld--;
      if (released) st.breaker?.release();
    }
  }

  // --- passive evidence -------------------------------------------------------

  private readonly onOutlierChange = (change: OutlierChange): void => {
    this.onEvent({ type: 'outlier', service: this.service, change });
    if (change.type === 'uneject') {
      const st = this.members.get(change.id);
      if (st?.activeHealthy) st.rampFrom = change.at; // back from ejection: ramp up again
    }
    if (change.type !== 'uneject' || change.cause !== 'removed') this.rebuild();
  };

  private notePassive(st: MemberState, ok: boolean): void {
    const need = this.config.adaptive_interval.min_successes;
    if (ok) {
      st.passiveStreak++;
      // Every `need` successes, so a stretch based on it can be renewed.
      if (st.passiveStreak % need === 0) this.onEvent({ type: 'passive', service: this.service, id: st.node.id, healthy: true, at: this.clock.now() });
    } else {
      if (st.passiveStreak >= need) this.onEvent({ type: 'passive', service: this.service, id: st.node.id, healthy: false, at: this.clock.now() });
      st.passiveStreak = 0;
    }
  }
}

function makeNode(m: UpstreamMember, st: MemberState): Node {
  return Object.freeze({ id: m.id, address: m.address, weight: m.weight, ...(m.zone !== undefined ? { zone: m.zone } : {}), [STATE]: st });
}
