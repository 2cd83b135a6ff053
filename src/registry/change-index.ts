import type { Clock, TimerHandle } from '../core/clock.js';

/**
 * Told of every change: the service, and the instance id when the change
 * concerns one instance (undefined: any instance of the service may have
 * changed).
 */
export type ChangeListener = (service: string, instance: string | undefined) => void;

/**
 * Modify indexes per service, the way Consul keeps one per key. One counter
 * hands out increasing numbers for the whole daemon, and each service keeps
 * the number of its last change (membership, an instance's fields, a check
 * status). A blocking query on a service waits on that service's index, so a
 * watcher wakes when its answer can have changed, not on any change in the
 * mesh.
 *
 * Within one run an index never goes back: a service that loses its last
 * instance keeps its index (one number per service name ever seen), and one
 * that comes back gets a new, higher one. An index this run never gave out
 * for a service (a client still holding one from before a restart) ends a
 * wait at once, so the client re-reads instead of waiting out its timeout.
 */
export class ChangeIndex {
  private last = 1;
  private readonly services = new Map<string, number>();
  private readonly waiting = new Map<string, Set<() => void>>();
  /** Waiters on any change anywhere (the mesh index). */
  private readonly waitingAny = new Set<() => void>();
  private readonly listeners = new Set<ChangeListener>();

  constructor(private readonly clock: Pick<Clock, 'setTimeout' | 'clearTimeout'>) {}

  /** The highest index given out: moves on every change anywhere. */
  get current(): number {
    return this.last;
  }

  /** The index of `service`'s last change; 1 for a service that never changed. */
  of(service: string): number {
    return this.services.get(service) ?? 1;
  }

  /** Record a change of `service` (of its instance `instance` when given); wakes only that service's waiters. */
  touch(service: string, instance?: string): number {
    const index = ++this.last;
    this.services.set(service, index);
    for (const listener of this.listeners) listener(service, instance);
    const waiters = this.waiting.get(service);
    if (waiters) {
      this.waiting.delete(service);
      for (const wake of waiters) wake();
    }
    this.wakeAny();
    return index;
  }

  /** Record a change that may concern every service (each known service and each waited-on one moves). */
  touchAll(): number {
    const index = ++this.last;
    const names = new Set([...this.services.keys(), ...this.waiting.keys()]);
    for (const service of names) {
      this.services.set(service, index);
      for (const listener of this.listeners) listener(service, undefined);
    }
    const waiters = [...this.waiting.values()];
    this.waiting.clear();
    for (const set of waiters) for (const wake of set) wake();
    this.wakeAny();
    return index;
  }

  /**
   * Resolve with `service`'s index once it differs from `index`, or after
   * `timeoutMs` (on the injected clock). Resolves at once when it differs
   * already: the service changed since, or `index` is not one this run gave.
   */
  wait(service: string, index: number, timeoutMs: number): Promise<number> {
    if (this.of(service) !== index) return Promise.resolve(this.of(service));
    const waiters = this.waiting.get(service) ?? new Set<() => void>();
    this.waiting.set(service, waiters);
    return this.park(
      waiters,
      () => this.of(service),
      timeoutMs,
      () => {
        // A wait on a name that never changes must not leave an empty set behind.
        if (waiters.size === 0 && this.waiting.get(service) === waiters) this.waiting.delete(service);
      },
    );
  }

  /** Resolve with the highest index once it passes `index`, or after `timeoutMs`. */
  waitAny(index: number, timeoutMs: number): Promise<number> {
    if (this.last > index) return Promise.resolve(this.last);
    return this.park(
      this.waitingAny,
      () => this.last,
      timeoutMs,
      () => {},
    );
  }

  /** Listen to every change; returns the function that stops listening. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Wait in `set` until woken or timed out; `released` runs after leaving the set. */
  private park(set: Set<() => void>, read: () => number, timeoutMs: number, released: () => void): Promise<number> {
    return new Promise((resolve) => {
      let timer: TimerHandle;
      const wake = (): void => {
        this.clock.clearTimeout(timer);
        set.delete(wake);
        released();
        resolve(read());
      };
      timer = this.clock.setTimeout(wake, timeoutMs);
      set.add(wake);
    });
  }

  private wakeAny(): void {
    if (this.waitingAny.size === 0) return;
    const waiters = [...this.waitingAny];
    this.waitingAny.clear();
    for (const wake of waiters) wake();
  }
}
