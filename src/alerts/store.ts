/**
 * What the alerting module keeps: the outbox of deliveries, alert records
 * with their timelines, and silences made over the API. Every backend
 * (memory for unit tests, SQLite, PostgreSQL later for several daemons)
 * passes test/alerts/store-contract.ts.
 *
 * Times are epoch ms passed in by the caller; the store reads no clock.
 * Several dispatchers may share one store: a row is claimed with a lease
 * (owner, until) so two never send it at once, and a crashed owner's lease
 * either runs out or is released when that owner starts again.
 */
import type { Silence } from './silences.js';
import type { AlertRecord, AlertState, Notification } from './types.js';

/** One delivery of one notification to one notifier. */
export interface OutboxRow {
  /** `${notification id}:${notifier}`: the idempotency key sent with every try. */
  id: string;
  notifier: string;
  notification: Notification;
  state: 'pending' | 'delivered' | 'dead';
  /** Tries made so far. */
  attempts: number;
  /** Not sent before this, epoch ms. */
  nextAttemptAt: number;
  createdAt: number;
  deliveredAt: number | null;
  lastError: string | null;
}

/** Delivery figures of one notifier. */
export interface NotifierStats {
  notifier: string;
  /** Rows waiting (pending). */
  queued: number;
  dead: number;
  delivered: number;
  lastError: string | null;
  lastErrorAt: number | null;
  lastDeliveredAt: number | null;
}

/** A failed try. */
export interface FailedTry {
  attempts: number;
  nextAttemptAt: number;
  error: string;
  /** No more tries: the row becomes a dead letter. */
  dead: boolean;
  at: number;
}

/** The alerting module's persistent state. */
export interface AlertStore {
  /** Add rows (state pending); durable when the promise resolves. A row whose id exists is left as it is. */
  enqueue(rows: readonly OutboxRow[]): Promise<void>;
  /**
   * Claim up to `limit` pending rows of `notifier` due at `now` (oldest
   * first) that no one else holds: each gets the lease until `lease.until`.
   */
  claimDue(notifier: string, now: number, limit: number, lease: { owner: string; until: number }): Promise<OutboxRow[]>;
  /** The row was delivered: it is never handed out again. */
  markDelivered(id: string, at: number): Promise<void>;
  /** A try failed: schedule the next or make it a dead letter; the lease ends. */
  markFailed(id: string, failure: FailedTry): Promise<void>;
  /** Earliest nextAttemptAt of pending rows of `notifier` (leases ignored), or null. */
  nextDue(notifier: string): Promise<number | null>;
  /** End every lease `owner` holds (it restarted: nothing of its is in flight). */
  releaseLeases(owner: string): Promise<void>;
  /** Figures per notifier that has rows or a recorded error. */
  notifierStats(): Promise<NotifierStats[]>;
  /** Dead letters, newest first. */
  deadLetters(query: { notifier?: string; limit: number }): Promise<OutboxRow[]>;
  /** Delete delivered and dead rows created before `before`; returns how many. */
  pruneOutbox(before: number): Promise<number>;

  /** Insert or replace alert records (by id). */
  saveAlerts(records: readonly AlertRecord[]): Promise<void>;
  /** Alerts in the given states (default all), most recently updated first. */
  loadAlerts(query?: { states?: readonly AlertState[]; limit?: number }): Promise<AlertRecord[]>;
  getAlert(id: string): Promise<AlertRecord | undefined>;

  putSilence(silence: Silence): Promise<void>;
  /** False when there was none. */
  deleteSilence(id: string): Promise<boolean>;
  /** Every silence kept, soonest end first (then by id). */
  listSilences(): Promise<Silence[]>;

  close(): Promise<void>;
}
