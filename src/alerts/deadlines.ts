/**
 * Many deadlines on one clock timer: a min-heap of due times (the
 * scheduler's DueHeap) and a single armed timer for the earliest, so ten
 * thousand alerts waiting on `for:` or reminders cost one timer.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import { DueHeap, type HeapItem } from '../scheduler/heap.js';

interface Entry extends HeapItem {
  key: string;
}

/** Calls `fire(key)` once each key's due time (epoch ms) has come. */
export class Deadlines {
  private readonly heap = new DueHeap<Entry>();
  private readonly byKey = new Map<string, Entry>();
  private timer: TimerHandle | undefined;
  private armedAt = Infinity;

  constructor(
    private readonly clock: Clock,
    private readonly fire: (key: string) => void,
  ) {}

  /** Set (or move) the deadline of `key`; null removes it. */
  set(key: string, due: number | null): void {
    const existing = this.byKey.get(key);
    if (existing) {
      this.heap.remove(existing);
      this.byKey.delete(key);
    }
    if (due !== null) {
      const entry: Entry = { key, due, heapIndex: -1 };
      this.heap.push(entry);
      this.byKey.set(key, entry);
    }
    this.arm();
  }

  /** Number of deadlines waiting. */
  get size(): number {
    return this.byKey.size;
  }

  /** Drop every deadline and the timer. */
  clear(): void {
    while (this.heap.pop()) {}
    this.byKey.clear();
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.armedAt = Infinity;
  }

  private arm(): void {
    const top = this.heap.peek();
    const due = top ? top.due : Infinity;
    if (due === this.armedAt) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.armedAt = due;
    if (due !== Infinity) this.timer = this.clock.setTimeout(this.run, Math.max(0, due - this.clock.now()));
  }

  private readonly run = (): void => {
    this.timer = undefined;
    this.armedAt = Infinity;
    const now = this.clock.now();
    for (let top = this.heap.peek(); top && top.due <= now; top = this.heap.peek()) {
      this.heap.pop();
      this.byKey.delete(top.key);
      this.fire(top.key);
    }
    this.arm();
  };
}
