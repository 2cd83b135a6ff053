/**
 * Delivery through the persistent outbox. A notification becomes one row
 * per notifier (its id is the idempotency key) and is durable before any
 * try. One loop per notifier claims its due rows one at a time (so they go
 * out in order and a slow receiver holds up only its own queue), waits for
 * the rate limit, sends with the notifier's timeout, and records the
 * outcome: delivered rows are never handed out again; a failure is retried
 * after an exponential backoff with ±20 % jitter; after max_attempts tries,
 * or at once for an answer that will not change (a 4xx), the row is a dead
 * letter. A restart releases this owner's leases, so what was in flight when
 * the process died is sent again (receivers deduplicate on the key).
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Random } from '../core/random.js';
import type { Notifier } from './notifiers/index.js';
import type { AlertLogger } from './notifiers/types.js';
import { TokenBucket } from './rate-limit.js';
import type { AlertStore, NotifierStats, OutboxRow } from './store.js';
import type { DeliveryOutcome, Notification } from './types.js';

/** One notifier as the outbox drives it. */
export interface OutboxNotifier {
  notifier: Notifier;
  /** Whole try, ms. */
  timeoutMs: number;
  maxAttempts: number;
  /** Sends per minute, or null for no limit. */
  rateLimit: { perMinute: number; burst?: number } | null;
}

/** Settings of the outbox. */
export interface OutboxOptions {
  store: AlertStore;
  clock: Clock;
  random: Random;
  logger: AlertLogger;
  notifiers: ReadonlyMap<string, OutboxNotifier>;
  /** First retry after about this long, ms; doubles per try. */
  backoffMs: number;
  maxBackoffMs: number;
  /** Who holds leases (stable across restarts of the same daemon). */
  owner: string;
  /** How a try ended, for the alert timelines. `final`: delivered or dead. */
  onOutcome?: (row: OutboxRow, outcome: DeliveryOutcome, dead: boolean) => void;
}

/** Extra lease beyond a try's timeout, ms: a claimed row is not handed to another owner while its try may still run. */
const LEASE_MARGIN_MS = 5_000;

interface Lane {
  name: string;
  spec: OutboxNotifier;
  bucket: TokenBucket | null;
  running: boolean;
  /** More work was signalled while running. */
  again: boolean;
  timer: TimerHandle | undefined;
  timerAt: number;
  inFlight: AbortController | null;
  sent: number;
  failed: number;
}

/** The delivery loops. */
export class Outbox {
  private readonly lanes = new Map<string, Lane>();
  private stopped = false;
  private readonly idle = new Set<() => void>();

  constructor(private readonly o: OutboxOptions) {
    for (const [name, spec] of o.notifiers) {
      const bucket = spec.rateLimit ? new TokenBucket(spec.rateLimit.perMinute, spec.rateLimit.burst) : null;
      this.lanes.set(name, { name, spec, bucket, running: false, again: false, timer: undefined, timerAt: Infinity, inFlight: null, sent: 0, failed: 0 });
    }
  }

  /** Release this owner's leases (a restart) and start every loop. */
  async start(): Promise<void> {
    await this.o.store.releaseLeases(this.o.owner);
    for (const lane of this.lanes.values()) this.kick(lane);
  }

  /** Store one row per notifier, then wake their loops. Resolves once the rows are durable. */
  async enqueue(notification: Notification, notifiers: readonly string[]): Promise<void> {
    const now = this.o.clock.now();
    const rows: OutboxRow[] = notifiers
      .filter((n) => this.lanes.has(n))
      .map((notifier) => ({
        id: `${notification.id}:${notifier}`,
        notifier,
        notification,
        state: 'pending',
        attempts: 0,
        nextAttemptAt: now,
        createdAt: now,
        deliveredAt: null,
        lastError: null,
      }));
    await this.o.store.enqueue(rows);
    for (const r of rows) this.kick(this.lanes.get(r.notifier)!);
  }

  /** Delivery figures per notifier (from the store) with sends and failures of this process. */
  async stats(): Promise<Array<NotifierStats & { sentHere: number; failedHere: number }>> {
    const stored = new Map((await this.o.store.notifierStats()).map((s) => [s.notifier, s]));
    return [...this.lanes.values()].map((lane) => ({
      ...(stored.get(lane.name) ?? { notifier: lane.name, queued: 0, dead: 0, delivered: 0, lastError: null, lastErrorAt: null, lastDeliveredAt: null }),
      sentHere: lane.sent,
      failedHere: lane.failed,
    }));
  }

  /** Resolves when no loop runs or waits on a due row (tests; `alerts test`). */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idle.add(resolve));
  }

  /** Stop the loops, aborting tries in flight (their rows are retried after a restart). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const lane of this.lanes.values()) {
      if (lane.timer !== undefined) this.o.clock.clearTimeout(lane.timer);
      lane.timer = undefined;
      lane.inFlight?.abort();
    }
    await Promise.all([...this.lanes.values()].map((l) => (l.running ? new Promise<void>((r) => this.idle.add(r)) : undefined)));
    await Promise.all([...this.lanes.values()].map((l) => l.spec.notifier.close?.()));
  }

  private isIdle(): boolean {
    for (const l of this.lanes.values()) if (l.running || l.timer !== undefined) return false;
    return true;
  }

  private kick(lane: Lane): void {
    if (this.stopped) return;
    if (lane.running) {
      lane.again = true;
      return;
    }
    if (lane.timer !== undefined) {
      this.o.clock.clearTimeout(lane.timer);
      lane.timer = undefined;
      lane.timerAt = Infinity;
    }
    lane.running = true;
    void this.run(lane).finally(() => {
      lane.running = false;
      if (lane.again && !this.stopped) {
        lane.again = false;
        this.kick(lane);
      }
      if (this.isIdle() || this.stopped) {
        const waiting = [...this.idle];
        this.idle.clear();
        for (const resolve of waiting) resolve();
      }
    });
  }

  private async run(lane: Lane): Promise<void> {
    const { store, clock } = this.o;
    for (;;) {
      if (this.stopped) return;
      lane.again = false;
      const now = clock.now();
      const wait = lane.bucket ? lane.bucket.wait(now) : 0;
      if (wait > 0) return this.sleep(lane, now + wait);
      const leaseUntil = now + lane.spec.timeoutMs + LEASE_MARGIN_MS;
      let rows: OutboxRow[];
      try {
        rows = await store.claimDue(lane.name, now, 1, { owner: this.o.owner, until: leaseUntil });
      } catch (err) {
        this.o.logger.error({ notifier: lane.name, err: (err as Error).message }, 'outbox: cannot read the queue; trying again later');
        return this.sleep(lane, clock.now() + this.o.backoffMs);
      }
      const row = rows[0];
      if (!row) {
        if (lane.again) continue;
        const next = await store.nextDue(lane.name).catch(() => null);
        // A row leased by another owner (or our own try that the clock overtook) is due again when its lease ends.
        if (next !== null) this.sleep(lane, Math.max(next, clock.now() + 1));
        return;
      }
      lane.bucket?.take(clock.now());
      await this.attempt(lane, row);
    }
  }

  private async attempt(lane: Lane, row: OutboxRow): Promise<void> {
    const { clock, store } = this.o;
    const ac = new AbortController();
    lane.inFlight = ac;
    const timer = clock.setTimeout(() => ac.abort(), lane.spec.timeoutMs);
    let outcome: DeliveryOutcome;
    try {
      outcome = await lane.spec.notifier.send(row.notification, { idempotencyKey: row.id, signal: ac.signal });
    } catch (err) {
      // A notifier should return failures as data; one that throws is treated as a retryable failure.
      outcome = { ok: false, retryable: true, error: `notifier threw: ${(err as Error).message}` };
    } finally {
      clock.clearTimeout(timer);
      lane.inFlight = null;
    }
    const at = clock.now();
    const attempts = row.attempts + 1;
    try {
      if (outcome.ok) {
        await store.markDelivered(row.id, at);
        lane.sent++;
        this.o.onOutcome?.({ ...row, attempts, state: 'delivered', deliveredAt: at }, outcome, false);
        return;
      }
      lane.failed++;
      const dead = !outcome.retryable || attempts >= lane.spec.maxAttempts;
      const nextAttemptAt = at + this.backoff(attempts);
      await store.markFailed(row.id, { attempts, nextAttemptAt, error: outcome.error, dead, at });
      this.o.onOutcome?.({ ...row, attempts, state: dead ? 'dead' : 'pending', nextAttemptAt, lastError: outcome.error }, outcome, dead);
      if (dead) this.o.logger.error({ notifier: lane.name, notification: row.notification.id, attempts, error: outcome.error }, 'notification dead-lettered');
      else this.o.logger.warn({ notifier: lane.name, notification: row.notification.id, attempts, error: outcome.error }, 'notification failed; will retry');
    } catch (err) {
      this.o.logger.error({ notifier: lane.name, err: (err as Error).message }, 'outbox: cannot record a delivery outcome');
    }
  }

  /** Delay before try `attempts + 1`, ms: backoff × 2^(attempts-1), capped, ±20 %. */
  private backoff(attempts: number): number {
    const base = Math.min(this.o.maxBackoffMs, this.o.backoffMs * 2 ** Math.min(30, attempts - 1));
    return Math.round(base * (0.8 + 0.4 * this.o.random()));
  }

  private sleep(lane: Lane, at: number): void {
    if (this.stopped) return;
    if (lane.timer !== undefined && lane.timerAt <= at) return;
    if (lane.timer !== undefined) this.o.clock.clearTimeout(lane.timer);
    lane.timerAt = at;
    lane.timer = this.o.clock.setTimeout(
      () => {
        lane.timer = undefined;
        lane.timerAt = Infinity;
        this.kick(lane);
      },
      Math.max(0, at - this.o.clock.now()),
    );
  }
}
