import type { Clock } from '../core/clock.js';

/** Most client addresses remembered at once: past it, addresses whose window ended are forgotten first. */
const MAX_ADDRESSES = 10_000;

/**
 * Failed authentications per client address in fixed windows: after `limit`
 * failures inside one window the address is refused (429) until the window
 * ends, so a token cannot be guessed at speed. Time comes from the clock.
 */
export class FailureLimiter {
  private readonly windows = new Map<string, { start: number; failures: number }>();

  constructor(
    private readonly clock: Clock,
    /** Failures allowed in one window. */
    readonly limit = 10,
    /** Window length, ms. */
    readonly windowMs = 1000,
  ) {}

  /** Milliseconds until `address` may try again, or 0 when it may now. */
  retryAfterMs(address: string): number {
    const w = this.windows.get(address);
    if (!w || w.failures < this.limit) return 0;
    const left = w.start + this.windowMs - this.clock.now();
    if (left <= 0) {
      this.windows.delete(address);
      return 0;
    }
    return left;
  }

  /** Count one failed authentication of `address`. */
  fail(address: string): void {
    const now = this.clock.now();
    const w = this.windows.get(address);
    if (w && now - w.start < this.windowMs) {
      w.failures++;
      return;
    }
    if (this.windows.size >= MAX_ADDRESSES) this.forgetEnded(now);
    this.windows.set(address, { start: now, failures: 1 });
  }

  private forgetEnded(now: number): void {
    for (const [address, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(address);
    // All still inside their window (a flood from many addresses): start over rather than grow without bound.
    if (this.windows.size >= MAX_ADDRESSES) this.windows.clear();
  }
}
