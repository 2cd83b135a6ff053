/**
 * What a notifier is: a factory from its config to something that delivers
 * one notification and says how it went, as data (never throws). Notifiers
 * are called only by the outbox, which retries, rate-limits and dead-letters.
 */
import type { Clock } from '../../core/clock.js';
import type { DeliveryOutcome, Notification } from '../types.js';

/** A logger as pino's: an object of fields, then a message. */
export interface AlertLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** What one delivery try gets. */
export interface SendContext {
  /** The outbox row id, the same on every try: receivers deduplicate on it. */
  idempotencyKey: string;
  /** Aborted at the notifier's timeout or when the outbox stops. */
  signal: AbortSignal;
}

/** A configured notifier. */
export interface Notifier {
  send(notification: Notification, ctx: SendContext): Promise<DeliveryOutcome>;
  /** Free connections. */
  close?(): Promise<void>;
}

/** Dependencies every notifier may use. */
export interface NotifierDeps {
  clock: Clock;
  logger: AlertLogger;
  /** The notifier's name in the config (for log lines). */
  name: string;
}

/** Builds a notifier from its validated config. */
export type NotifierFactory<C> = (config: C, deps: NotifierDeps) => Notifier;
