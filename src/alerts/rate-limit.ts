/**
 * Token bucket: `perMinute` tokens a minute, at most `burst` saved up.
 * Time is passed in (epoch ms), so tests drive it with a FakeClock.
 */
export class TokenBucket {
  private tokens: number;
  private at: number | null = null;
  private readonly perMs: number;

  constructor(
    perMinute: number,
    private readonly burst: number = perMinute,
  ) {
    this.perMs = perMinute / 60_000;
    this.tokens = burst;
  }

  /** Take a token at `now`: 0 when taken, else the ms to wait until one is there (nothing taken). */
  take(now: number): number {
    this.refill(now);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - this.tokens) / this.perMs);
  }

  /** ms until a token is there at `now` (0: one is), taking nothing. */
  wait(now: number): number {
    this.refill(now);
    return this.tokens >= 1 ? 0 : Math.ceil((1 - this.tokens) / this.perMs);
  }

  private refill(now: number): void {
    if (this.at !== null && now > this.at) this.tokens = Math.min(this.burst, this.tokens + (now - this.at) * this.perMs);
    this.at = now;
  }
}
