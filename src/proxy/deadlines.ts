import type { Clock, TimerHandle } from '../core/clock.js';

/**
 * Timeouts that all have the same length (the proxy's per-attempt timeout)
 * expire in the order they were started, so they fit a FIFO list watched by
 * one clock timer armed for the oldest, instead of one timer per request:
 * adding and removing is a few pointer writes, no timer allocation on the
 * request path.
 */

/** Something with a deadline in the queue; the queue owns these fields. */
export interface DeadlineEntry {
  /** clock.now() at which it expires, ms. */
  deadline: number;
  prevDeadline: DeadlineEntry | undefined;
  nextDeadline: DeadlineEntry | undefined;
  /** In the queue (not yet expired or removed). */
  queued: boolean;
}

/** A FIFO of same-length timeouts over one clock timer. */
export class DeadlineQueue<T extends DeadlineEntry> {
  private head: T | undefined = undefined;
  private tail: T | undefined = undefined;
  private timer: TimerHandle | undefined = undefined;
  /** When the armed timer fires, ms (clock.now() scale). */
  private timerAt = 0;
  /** Inside expire(): entries added by onExpire (a retry) must not arm the timer for themselves ahead of older ones. */
  private expiring = false;
  private readonly fire = (): void => this.expire();

  constructor(
    private readonly clock: Clock,
    /** Length of every timeout, ms. */
    private readonly durationMs: number,
    private readonly onExpire: (entry: T) => void,
  ) {}

  /** Start the timeout of `entry` now (`now` = clock.now(), passed in when the caller has it). */
  add(entry: T, now = this.clock.now()): void {
    entry.deadline = now + this.durationMs;
    entry.queued = true;
    entry.prevDeadline = this.tail;
    entry.nextDeadline = undefined;
    if (this.tail === undefined) this.head = entry;
    else this.tail.nextDeadline = entry;
    this.tail = entry;
    if (this.timer === undefined && !this.expiring) this.arm(entry.deadline, now);
  }

  /** Cancel the timeout of `entry`; a no-op when it already expired or was removed. */
  remove(entry: T): void {
    if (!entry.queued) return;
    entry.queued = false;
    const { prevDeadline: prev, nextDeadline: next } = entry;
    if (prev === undefined) this.head = next as T | undefined;
    else prev.nextDeadline = next;
    if (next === undefined) this.tail = prev as T | undefined;
    else next.prevDeadline = prev;
    entry.prevDeadline = entry.nextDeadline = undefined;
    // The timer stays armed for the removed head: when it fires it finds a later head and re-arms, once per timeout length at most.
  }

  /** Entries waiting (for tests). */
  size(): number {
    let n = 0;
    for (let e = this.head; e !== undefined; e = e.nextDeadline as T | undefined) n++;
    return n;
  }

  /** Stop the timer; entries left never expire. */
  close(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.head = this.tail = undefined;
  }

  private arm(at: number, now: number): void {
    this.timerAt = at;
    this.timer = this.clock.setTimeout(this.fire, Math.max(0, at - now));
  }

  private expire(): void {
    this.timer = undefined;
    // A timer may fire a fraction of a ms before clock.now() reaches its deadline; what it was armed for counts as due.
    const now = Math.max(this.clock.now(), this.timerAt);
    this.expiring = true;
    try {
      while (this.head !== undefined && this.head.deadline <= now) {
        const e = this.head;
        this.remove(e);
        this.onExpire(e);
      }
    } finally {
      this.expiring = false;
    }
    if (this.head !== undefined && this.timer === undefined) this.arm(this.head.deadline, this.clock.now());
  }
}
