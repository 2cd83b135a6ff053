/**
 * The alerting module assembled: rules → engine → notifications → outbox →
 * notifiers, with silences, remediation and the store. The daemon builds one
 * with `createAlerting` and feeds `input` (AlertInput). Wiring, once the
 * restructuring lands (one subscription each, no call back):
 *
 * | source | AlertInput |
 * |---|---|
 * | bus `result` {spec, result, state} | `result({ check: refOf(spec), status: state.status, result })` |
 * | bus `flap` {spec, flapping, at} | `flap({ check: refOf(spec), flapping, at })` |
 * | bus `transition` | `transition(...)` (optional: results carry the status) |
 * | StatusRollup onChange, level instance/service | `status({ level, service, instance, from, to, cause, at })` |
 * | scores, system values, analysis outputs | `sample({ series, subject, value, at })` |
 * | registry changes, config reload | `topologyChanged()` |
 *
 * `refOf(spec)` is `{ checkId: spec.id, service, instance, check: spec.name, kind: spec.kind }`.
 */
import type { AlertsConfig, NotifierConfig } from '../config/alerts.js';
import { UsageError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import type { Random } from '../core/random.js';
import { AlertEngine } from './engine.js';
import type { AlertInput, AlertTopology } from './input.js';
import { createNotifier, type AlertLogger, type Notifier } from './notifiers/index.js';
import { Notifications, randomId } from './notify.js';
import { Outbox, type OutboxNotifier } from './outbox.js';
import { Remediation } from './remediation.js';
import { compileRules } from './rules.js';
import { SilenceBook, type Silence } from './silences.js';
import type { AlertStore, NotifierStats } from './store.js';
import { DependencyGraph } from './suppression.js';
import { addEntry, type AlertJournal } from './timeline.js';
import type { AlertRecord, AlertState, Level, TimelineEntry } from './types.js';

/** How often delivered and dead outbox rows past `outbox.keep_delivered` are deleted, ms. */
const PRUNE_EVERY_MS = 3_600_000;

/** Filters of GET /api/v1/alerts. */
export interface AlertFilter {
  state?: readonly AlertState[];
  level?: readonly Level[];
  rule?: string;
  service?: string;
  /** 1..1000 */
  limit: number;
  cursor?: string;
}

/** A new silence over the API. Times epoch ms. */
export interface SilenceInput {
  matchers: Record<string, string[]>;
  start?: number;
  end: number;
  comment?: string;
  createdBy?: string;
}

/** A notifier's delivery state as the API shows it (never its settings). */
export interface NotifierStatus extends NotifierStats {
  kind: string;
  deadLetters: Array<{ id: string; notification: string; attempts: number; lastError: string | null; createdAt: number }>;
}

/** What the alert routes need (src/server/alert-routes.ts). */
export interface AlertsApi {
  listAlerts(filter: AlertFilter): Promise<{ items: AlertRecord[]; nextCursor: string | null }>;
  getAlert(id: string): Promise<AlertRecord | undefined>;
  listSilences(): Promise<Silence[]>;
  createSilence(input: SilenceInput): Promise<Silence>;
  /** False when there is none; throws UsageError for a silence from the config. */
  deleteSilence(id: string): Promise<boolean>;
  notifierStatus(): Promise<NotifierStatus[]>;
}

/** What createAlerting needs. */
export interface AlertingOptions {
  config: AlertsConfig;
  clock: Clock;
  random: Random;
  logger: AlertLogger;
  store: AlertStore;
  topology: AlertTopology;
  /** Lease owner of outbox rows: the same across restarts of one daemon (default "healthmesh"). */
  owner?: string;
  /** Notifiers by name instead of building them from the config (tests). */
  notifiers?: ReadonlyMap<string, Notifier>;
  /** Hears every timeline entry as it is noted (the event stream). */
  onEntry?: (record: AlertRecord, entry: TimelineEntry) => void;
  /** Hears every delivery try of a notification: delivered, failed (retried later) or dead (metrics). */
  onDelivery?: (notifier: string, outcome: 'delivered' | 'failed' | 'dead') => void;
}

/** A running alerting module. */
export interface Alerting {
  input: AlertInput;
  api: AlertsApi;
  engine: AlertEngine;
  outbox: Outbox;
  notifications: Notifications;
  remediation: Remediation;
  /** Restore saved alerts and silences, then start delivering (a restart resends what was not delivered). */
  start(): Promise<void>;
  /** Save alert changes not yet saved. */
  flush(): Promise<void>;
  /** Stop timers, deliveries and actions; save what changed. */
  stop(): Promise<void>;
}

/** Build the alerting module. */
export function createAlerting(options: AlertingOptions): Alerting {
  const { config, clock, random, logger, store } = options;
  const dirty = new Map<string, AlertRecord>();
  let saving: Promise<void> = Promise.resolve();
  let saveQueued = false;
  const save = (): void => {
    if (saveQueued) return;
    saveQueued = true;
    saving = saving.then(async () => {
      await Promise.resolve();
      saveQueued = false;
      const batch = [...dirty.values()].filter((r) => r.state !== 'pending');
      dirty.clear();
      if (batch.length) await store.saveAlerts(batch).catch((err: unknown) => logger.error({ err: (err as Error).message }, 'alerts: cannot save alert state'));
    });
  };
  const journal: AlertJournal = {
    note(record, entry) {
      addEntry(record, entry);
      dirty.set(record.id, record);
      save();
      options.onEntry?.(record, entry);
    },
    changed(record) {
      dirty.set(record.id, record);
      save();
    },
  };

  const rules = compileRules(config);
  const engine = new AlertEngine(rules, clock, options.topology, journal);
  const silences = new SilenceBook(config, clock.now());
  const graph = new DependencyGraph((s) => options.topology.dependsOn(s));
  const lanes = new Map<string, OutboxNotifier>();
  for (const [name, nc] of Object.entries(config.notifiers)) {
    lanes.set(name, {
      notifier: options.notifiers?.get(name) ?? buildNotifier(nc, { clock, logger, name }),
      timeoutMs: nc.timeout,
      maxAttempts: nc.max_attempts ?? config.outbox.max_attempts,
      rateLimit: nc.rate_limit ? { perMinute: nc.rate_limit.per_minute, ...(nc.rate_limit.burst ? { burst: nc.rate_limit.burst } : {}) } : null,
    });
  }
  const outbox = new Outbox({
    store,
    clock,
    random,
    logger,
    notifiers: lanes,
    backoffMs: config.outbox.backoff,
    maxBackoffMs: config.outbox.max_backoff,
    owner: options.owner ?? 'healthmesh',
    onOutcome(row, outcome, dead) {
      const type = outcome.ok ? 'delivered' : dead ? 'dead_letter' : 'delivery_failed';
      options.onDelivery?.(row.notifier, outcome.ok ? 'delivered' : dead ? 'dead' : 'failed');
      const detail = outcome.ok ? (outcome.detail ?? 'ok') : `try ${row.attempts}: ${outcome.error}`;
      for (const item of row.notification.items) {
        const found = engine.get(item.alertId);
        if (found) journal.note(found.record, { at: clock.now(), type, notifier: row.notifier, notification: row.notification.id, detail });
      }
    },
  });
  const notifications = new Notifications({
    clock,
    random,
    alerts: engine,
    silences,
    graph,
    journal,
    sink: {
      enqueue(notification, notifiers) {
        outbox
          .enqueue(notification, notifiers)
          .catch((err: unknown) => logger.error({ err: (err as Error).message, notification: notification.id }, 'alerts: cannot store a notification'));
      },
    },
  });
  const remediation = new Remediation(clock, journal);
  engine.connect({
    notify(record, rule, event) {
      notifications.notify(record, rule, event);
      if (event === 'reminder') remediation.run(record, rule);
    },
    fired: (record, rule) => remediation.run(record, rule),
    flapEnded: () => notifications.flapEnded(),
  });

  const input: AlertInput = {
    result: (e) => engine.result(e),
    transition: (e) => engine.transition(e),
    flap: (e) => engine.flap(e),
    status: (e) => engine.status(e),
    sample: (e) => engine.sample(e),
    topologyChanged() {
      engine.topologyChanged();
      graph.invalidate();
    },
  };

  const api: AlertsApi = {
    async listAlerts(f) {
      const after = f.cursor ? decodeCursor(f.cursor) : null;
      const items = engine
        .records()
        .filter(
          (a) =>
            (!f.state || f.state.includes(a.state)) &&
            (!f.level || f.level.includes(a.level)) &&
            (!f.rule || a.rule === f.rule) &&
            (!f.service || a.labels.service === f.service),
        )
        .sort((a, b) => b.activeSince - a.activeSince || a.id.localeCompare(b.id))
        .filter((a) => !after || a.activeSince < after.at || (a.activeSince === after.at && a.id > after.id));
      const page = items.slice(0, f.limit);
      const last = page[page.length - 1];
      return { items: page, nextCursor: items.length > f.limit && last ? encodeCursor(last.activeSince, last.id) : null };
    },
    async getAlert(id) {
      return engine.get(id)?.record ?? (await store.getAlert(id));
    },
    async listSilences() {
      return silences.list(clock.now());
    },
    async createSilence(s) {
      const now = clock.now();
      if (s.end <= (s.start ?? now)) throw new UsageError('end: must be after start (and in the future)');
      const silence: Silence = {
        id: randomId(random).slice(0, 16),
        matchers: s.matchers,
        start: s.start ?? null,
        end: s.end,
        comment: s.comment ?? '',
        createdBy: s.createdBy ?? 'api',
        createdAt: now,
        source: 'api',
      };
      await store.putSilence(silence);
      silences.add(silence);
      notifications.silencesChanged();
      return silence;
    },
    async deleteSilence(id) {
      const existing = silences.get(id);
      if (existing?.source === 'config') throw new UsageError(`silence ${id} comes from the config file: remove it there`);
      const stored = await store.deleteSilence(id);
      const held = silences.remove(id);
      if (stored || held) notifications.silencesChanged();
      return stored || held;
    },
    async notifierStatus() {
      const stats = await outbox.stats();
      return Promise.all(
        stats.map(async (s) => ({
          ...s,
          kind: config.notifiers[s.notifier]?.kind ?? 'unknown',
          deadLetters: (await store.deadLetters({ notifier: s.notifier, limit: 20 })).map((r) => ({
            id: r.id,
            notification: r.notification.id,
            attempts: r.attempts,
            lastError: r.lastError,
            createdAt: r.createdAt,
          })),
        })),
      );
    },
  };

  // Delivered and dead rows are kept `keep_delivered` for the API and then dropped, checked hourly.
  let pruneTimer: ReturnType<Clock['setTimeout']> | undefined;
  const prune = (): void => {
    store
      .pruneOutbox(clock.now() - config.outbox.keep_delivered)
      .catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'alerts: cannot prune the outbox'));
    pruneTimer = clock.setTimeout(prune, PRUNE_EVERY_MS);
  };

  return {
    input,
    api,
    engine,
    outbox,
    notifications,
    remediation,
    async start() {
      engine.restore(await store.loadAlerts({ states: ['firing', 'resolved'], limit: 10_000 }));
      const now = clock.now();
      for (const s of await store.listSilences()) if (s.end > now) silences.add(s);
      await outbox.start();
      pruneTimer = clock.setTimeout(prune, PRUNE_EVERY_MS);
    },
    async flush() {
      await saving;
      if (dirty.size) {
        save();
        await saving;
      }
    },
    async stop() {
      if (pruneTimer !== undefined) clock.clearTimeout(pruneTimer);
      engine.stop();
      notifications.stop();
      await remediation.close();
      await outbox.stop();
      await this.flush();
    },
  };
}

/** Build a notifier from its config (the kinds' map; no cast). */
export function buildNotifier(config: NotifierConfig, deps: { clock: Clock; logger: AlertLogger; name: string }): Notifier {
  return createNotifier(config, deps);
}

function encodeCursor(at: number, id: string): string {
  return Buffer.from(`${at}:${id}`).toString('base64url');
}

function decodeCursor(cursor: string): { at: number; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString().split(':');
  if (!at || !id || !Number.isFinite(Number(at))) throw new UsageError('cursor: not a cursor of this list (use nextCursor as given)');
  return { at: Number(at), id };
}
