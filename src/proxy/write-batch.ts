/**
 * Small writes made while one batch of socket events is handled leave
 * together at its end (setImmediate: after libuv has run the callbacks of
 * every ready socket of this poll).
 *
 * Why: a write on a loopback socket wakes its reader, and Linux puts that
 * reader on the writer's CPU expecting the writer to sleep soon (a sync
 * wakeup). A writer that goes on with the rest of its batch is preempted at
 * once, once per write: measured at a fixed 6.5k requests/s, 0.54
 * involuntary context switches per proxied request, each one holding back
 * every request still waiting in the batch. Writing at the end of the batch,
 * just before the process sleeps in epoll, is what the kernel expects (and
 * what HAProxy's event loop does).
 *
 * Each writer keeps its pending bytes and flushes them itself,
 * synchronously, before anything that must follow them in the byte stream
 * (a large body write, end(), a hand-over).
 */

/** Something holding pending bytes to write. */
export interface BatchedWriter {
  /** Write the pending bytes now (called once per batch it joined). */
  flushBatched(): void;
}

/** The writers with pending bytes, flushed once the current batch of events is handled. */
export class WriteBatch {
  private writers: BatchedWriter[] = [];
  private spare: BatchedWriter[] = [];
  private scheduled = false;
  private readonly flush = (): void => this.flushAll();

  /** `writer` has pending bytes (call once, when they go from none to some). */
  add(writer: BatchedWriter): void {
    this.writers.push(writer);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Flush every pending writer now (the proxy closing, or a test). */
  flushAll(): void {
    this.scheduled = false;
    const list = this.writers;
    // Writers added while flushing (a write that completes a response synchronously) go to the next batch.
    this.writers = this.spare;
    for (let i = 0; i < list.length; i++) list[i]!.flushBatched();
    list.length = 0;
    this.spare = list;
  }
}
