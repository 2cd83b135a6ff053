import type { EventBus } from '../core/events.js';
import type { HealthEvents } from '../core/health-events.js';
import type { HealthStatus } from '../core/status.js';

/** A transition as sent to SSE clients. */
export interface LoggedTransition {
  /** Sequence number, the SSE event id (Last-Event-ID resumes after it). */
  id: number;
  check: string;
  service: string;
  instance: string;
  from: HealthStatus;
  to: HealthStatus;
  reason: string;
  output: string;
  at: number;
}

/**
 * The most recent transitions in a fixed ring, so an SSE client that
 * reconnects with Last-Event-ID gets what it missed (within `capacity`).
 */
export class TransitionLog {
  private readonly ring: Array<LoggedTransition | undefined>;
  private nextId = 1;
  private readonly listeners = new Set<(t: LoggedTransition) => void>();

  constructor(private readonly capacity = 10_000) {
    this.ring = new Array(capacity);
  }

  attach(bus: EventBus<HealthEvents>): () => void {
    return bus.on('transition', ({ spec, from, to, result, at }) =>
      this.push({ check: spec.id, service: spec.service, instance: spec.instance, from, to, reason: result.reason, output: result.output, at }),
    );
  }

  push(t: Omit<LoggedTransition, 'id'>): LoggedTransition {
    const entry = { id: this.nextId++, ...t };
    this.ring[entry.id % this.capacity] = entry;
    for (const l of this.listeners) l(entry);
    return entry;
  }

  /** Transitions with id > afterId still in the ring, oldest first. */
  since(afterId: number): LoggedTransition[] {
    const out: LoggedTransition[] = [];
    const first = Math.max(afterId + 1, this.nextId - this.capacity);
    for (let id = first; id < this.nextId; id++) {
      const e = this.ring[id % this.capacity];
      if (e && e.id === id) out.push(e);
    }
    return out;
  }

  get lastId(): number {
    return this.nextId - 1;
  }

  subscribe(listener: (t: LoggedTransition) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
