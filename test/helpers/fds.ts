import { readdirSync } from 'node:fs';

/** Number of open file descriptors of this process (entries of /proc/self/fd). */
export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/**
 * Waits until the open fd count is at most `atMost` (sockets close on a later
 * loop turn than destroy()); returns the last count seen, which the caller
 * asserts on, so a leak fails with the numbers instead of hanging.
 */
export async function settleFds(atMost: number, withinMs = 2000): Promise<number> {
  const deadline = Date.now() + withinMs;
  let n = openFds();
  while (n > atMost && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
    n = openFds();
  }
  return n;
}
