import type { Clock, TimerHandle } from '../core/clock.js';
import type { EventBus } from '../core/events.js';
import type { HealthEvents } from '../status/health-events.js';
import type { LoggedTransition, TransitionLog } from './event-log.js';
import type { ServiceIncidents } from './web-incidents.js';
import type { MeshView, ServiceState } from './web-mesh.js';
import type { Sparklines } from './web-sparklines.js';

const MINUTE_MS = 60_000;

/** A transition as the dashboard's stream sends it: the change, and what it did to its service(s). */
export interface WebTransition extends LoggedTransition {
  /** The instance's status and score after the change. */
  inst: { status: string; score: number };
  /** The transition's service, then any dependent whose status it changed. */
  svcs: ServiceState[];
  /** The mesh status after the change. */
  mesh: string;
}

/** Sent once a minute: the minute that closed and every service's score now. */
export interface WebTick {
  /** Start of the new minute, epoch ms. */
  at: number;
  /** [service, lowest score of the closed minute (or null), score now]. */
  services: Array<[string, number | null, number]>;
}

/** A client of the feed: receives ready-to-write SSE frames, and is told when the server shuts down. */
export interface FrameSink {
  write(frame: string): void;
  end(): void;
}

/**
 * The dashboard's live feed. Each transition is enriched once (service,
 * instance and mesh state after it, dependents it changed), serialized once
 * and written to every connected dashboard, so a page needs no follow-up
 * request to turn a service red. It also keeps the sparklines and the
 * service incidents current, whether or not a page is open.
 */
export class WebFeed {
  private readonly clients = new Set<FrameSink>();
  private readonly offs: Array<() => void> = [];
  private timer: TimerHandle | undefined;
  constructor(
    private readonly deps: {
      transitions: TransitionLog;
      bus: EventBus<HealthEvents>;
      mesh: MeshView;
      rollup: { instance(s: string, i: string): string; instanceScore(s: string, i: string): number; meshStatus(): string };
      sparklines: Sparklines;
      incidents: ServiceIncidents;
      clock: Clock;
    },
  ) {}

  /**
   * The event id of the newest transition (what a page that read the state
   * now resumes after): the transition log's ids, which rise across restarts
   * and are the ids stored with the transitions.
   */
  get lastEventId(): string {
    return String(this.deps.transitions.lastId);
  }

  start(): void {
    const { bus, transitions, mesh, sparklines, clock } = this.deps;
    this.offs.push(
      bus.on('result', ({ spec, result }) => {
        const now = clock.now();
        const state = mesh.state(spec.service);
        sparklines.observe(spec.service, state.score, state.status, now);
        sparklines.observeLatency(spec.service, result.durationMs, now);
      }),
      // The log numbers transitions; following it (not the bus) gives frames the ids clients resume from.
      transitions.subscribe((t) => this.publish(t)),
    );
    for (const name of mesh.names()) this.deps.incidents.record(name, mesh.state(name).status, 'start', clock.now());
    this.armTick();
  }

  stop(): void {
    for (const off of this.offs.splice(0)) off();
    if (this.timer !== undefined) this.deps.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.clients.clear();
  }

  /** Add a client; returns its removal. */
  subscribe(sink: FrameSink): () => void {
    this.clients.add(sink);
    return () => this.clients.delete(sink);
  }

  /**
   * Frames of the transitions after the event id `lastEventId`, enriched
   * with the state now, or null when memory does not hold them all (an id
   * from before a restart, or one the log has dropped): the page then
   * re-reads the whole state, one request, instead of waiting on the store.
   */
  replay(lastEventId: string): string[] | null {
    if (!/^\d+$/.test(lastEventId)) return null;
    const missed = this.deps.transitions.sinceInMemory(Number(lastEventId));
    return missed?.map((t) => this.frame(t, [this.deps.mesh.state(t.service)])) ?? null;
  }

  private publish(t: LoggedTransition): void {
    const { mesh, incidents, sparklines } = this.deps;
    const own = mesh.state(t.service);
    sparklines.observe(t.service, own.score, own.status, t.at);
    const svcs = [own];
    if (incidents.record(t.service, own.status, t.check, t.at)) {
      // A service changing status may cap or uncap its dependents (depends_on); tell clients about those too.
      for (const name of mesh.dependents(t.service)) {
        const dep = mesh.state(name);
        if (incidents.record(name, dep.status, dep.cause ?? t.check, t.at)) svcs.push(dep);
      }
    }
    if (this.clients.size === 0) return;
    const frame = this.frame(t, svcs);
    for (const sink of this.clients) sink.write(frame);
  }

  /**
   * End every stream cleanly (the daemon is stopping): a stream cut by the
   * socket closing under it reads to the browser as a broken response, an
   * ended one as a normal end, after which the page reconnects.
   */
  endClients(): void {
    for (const sink of [...this.clients]) sink.end();
    this.clients.clear();
  }

  private frame(t: LoggedTransition, svcs: ServiceState[]): string {
    const { rollup } = this.deps;
    const data: WebTransition = {
      ...t,
      inst: { status: rollup.instance(t.service, t.instance), score: rollup.instanceScore(t.service, t.instance) },
      svcs,
      mesh: rollup.meshStatus(),
    };
    return `id: ${t.id}\nevent: transition\ndata: ${JSON.stringify(data)}\n\n`;
  }

  /** Once a minute: fold every service's score into the new minute and send the tick. */
  private armTick(): void {
    const { clock } = this.deps;
    const now = clock.now();
    // A little past the boundary, so the new minute's bucket is the one written.
    const wait = MINUTE_MS - (now % MINUTE_MS) + 50;
    this.timer = clock.setTimeout(() => {
      this.tick();
      this.armTick();
    }, wait);
  }

  private tick(): void {
    const { mesh, sparklines, clock } = this.deps;
    const now = clock.now();
    const at = Math.floor(now / MINUTE_MS) * MINUTE_MS;
    const services: WebTick['services'] = [];
    for (const name of mesh.names()) {
      const state = mesh.state(name);
      const closed = sparklines.scores(name, at - 1);
      sparklines.observe(name, state.score, state.status, now);
      services.push([name, closed[closed.length - 1] ?? null, state.score]);
    }
    if (this.clients.size === 0) return;
    const frame = `event: tick\ndata: ${JSON.stringify({ at, services } satisfies WebTick)}\n\n`;
    for (const sink of this.clients) sink.write(frame);
  }
}
