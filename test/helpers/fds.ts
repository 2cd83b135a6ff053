import { readdirSync } from 'node:fs';

/** Number of open file descriptors of this process (entries of /proc/self/fd). */
export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Threads of this process (main, V8 platform, libuv pool, one per worker): entries of /proc/self/task. */
export function threadCount(): number {
  return readdirSync('/proc/self/task').length;
}

/**
 * Waits until count() is at most `atMost`, polling every 10 ms for up to
 * `withinMs`; returns the last count seen, which the caller asserts on, so a
 * leak fails with the numbers instead of hanging.
 */
async function settleCount(count: () => number, atMost: number, withinMs: number): Promise<number> {
  const deadline = Date.now() + withinMs;
  let n = count();
  while (n > atMost && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
    n = count();
  }
  return n;
}

/**
 * Waits until the open fd count is at most `atMost` (sockets close on a later
 * loop turn than destroy()); returns the last count seen (see settleCount).
 */
export function settleFds(atMost: number, withinMs = 2000): Promise<number> {
  return settleCount(openFds, atMost, withinMs);
}

/** Waits until the thread count is at most `atMost` (workers exit asynchronously); returns the last count seen. */
export function settleThreads(atMost: number, withinMs = 3000): Promise<number> {
  return settleCount(threadCount, atMost, withinMs);
}
