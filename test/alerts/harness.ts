/**
 * A whole alerting module on a FakeClock with a memory store and recording
 * notifiers, plus helpers that feed it the way the daemon will.
 */
import { createAlerting, type Alerting } from '../../src/alerts/alerting.js';
import type { AlertTopology, CheckRef } from '../../src/alerts/input.js';
import { MemoryAlertStore } from '../../src/alerts/memory-store.js';
import type { AlertLogger, Notifier } from '../../src/alerts/notifiers/index.js';
import type { AlertStore } from '../../src/alerts/store.js';
import type { AlertRecord, DeliveryOutcome, Notification } from '../../src/alerts/types.js';
import { alertsSchema } from '../../src/config/alerts.js';
import { FakeClock, type Clock } from '../../src/core/clock.js';
import { seeded } from '../../src/core/random.js';
import type { HealthStatus } from '../../src/core/status.js';
import type { z } from 'zod';

/** An hour boundary, so cron windows and minutes line up. */
export const T0 = Date.UTC(2026, 0, 5, 0, 0, 0); // a Monday
export const SEC = 1000;
export const MIN = 60_000;
export const HOUR = 3_600_000;

export const silentLogger: AlertLogger = { info() {}, warn() {}, error() {} };

/** One delivery a recording notifier saw. */
export interface Sent {
  notifier: string;
  key: string;
  /** When the group flushed (the notification's createdAt), epoch ms. */
  at: number;
  notification: Notification;
}

export interface HarnessOptions {
  /** service → depends_on */
  dependsOn?: Record<string, string[]>;
  /** service/instance → tags and zone */
  instances?: Record<string, { tags: string[]; zone?: string }>;
  store?: AlertStore;
  /** What every send answers (default ok). */
  answer?: (n: Notification, notifier: string) => DeliveryOutcome;
  /** A FakeClock at T0 by default; a real clock for tests of real processes (advance() then refuses). */
  clock?: FakeClock | Clock;
}

export interface Harness {
  clock: FakeClock | Clock;
  alerting: Alerting;
  store: AlertStore;
  sent: Sent[];
  /** Feed one result of check `service/instance/name` with this thresholded status. */
  result(checkId: string, status: HealthStatus, extra?: { reason?: string; durationMs?: number; metrics?: Record<string, number>; output?: string }): void;
  /** A service or instance status change. */
  serviceStatus(service: string, to: HealthStatus, from?: HealthStatus): void;
  instanceStatus(id: string, to: HealthStatus, from?: HealthStatus): void;
  flap(checkId: string, flapping: boolean): void;
  /** Advance the clock in steps, letting the outbox's promises settle between steps. */
  advance(ms: number, step?: number): Promise<void>;
  /** Alerts of a rule. */
  alerts(rule?: string): AlertRecord[];
  /** Every item sent, flattened: `event service[/instance]`. */
  lines(): string[];
  stop(): Promise<void>;
}

export function ref(checkId: string): CheckRef {
  const [service = '', instance = '', check = ''] = checkId.split('/');
  return { checkId, service, instance, check, kind: check.replace(/\d+$/, '') || 'http' };
}

/** Drain every pending promise reaction (the memory store settles in microtasks). */
export function settle(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

export async function harness(section: z.input<typeof alertsSchema>, options: HarnessOptions = {}): Promise<Harness> {
  const clock = options.clock ?? new FakeClock(T0);
  const config = alertsSchema.parse(section);
  const store = options.store ?? new MemoryAlertStore();
  const sent: Sent[] = [];
  const notifiers = new Map<string, Notifier>();
  for (const name of Object.keys(config.notifiers)) {
    notifiers.set(name, {
      async send(notification, ctx) {
        const outcome = options.answer?.(notification, name) ?? { ok: true };
        if (outcome.ok) sent.push({ notifier: name, key: ctx.idempotencyKey, at: Date.parse(notification.createdAt), notification });
        return outcome;
      },
    });
  }
  const topology: AlertTopology = {
    instance: (service, instance) => options.instances?.[`${service}/${instance}`] ?? { tags: [] },
    dependsOn: (service) => options.dependsOn?.[service] ?? [],
  };
  const alerting = createAlerting({ config, clock, random: seeded(42), logger: silentLogger, store, topology, notifiers });
  await alerting.start();
  const last = new Map<string, HealthStatus>();
  return {
    clock,
    alerting,
    store,
    sent,
    result(checkId, status, extra = {}) {
      alerting.input.result({
        check: ref(checkId),
        status,
        result: {
          status,
          reason: extra.reason ?? (status === 'HEALTHY' ? 'ok' : 'connect_refused'),
          output: extra.output ?? status.toLowerCase(),
          durationMs: extra.durationMs ?? 5,
          observedAt: clock.now(),
          metrics: extra.metrics,
        },
      });
    },
    serviceStatus(service, to, from) {
      alerting.input.status({ level: 'service', service, from: from ?? last.get(service) ?? 'UNKNOWN', to, cause: 'test', at: clock.now() });
      last.set(service, to);
    },
    instanceStatus(id, to, from) {
      const [service = '', instance = ''] = id.split('/');
      alerting.input.status({ level: 'instance', service, instance, from: from ?? last.get(id) ?? 'UNKNOWN', to, cause: 'test', at: clock.now() });
      last.set(id, to);
    },
    flap(checkId, flapping) {
      alerting.input.flap({ check: ref(checkId), flapping, at: clock.now() });
    },
    async advance(ms, step = SEC) {
      await settle();
      if (!(clock instanceof FakeClock)) throw new Error('advance() needs the FakeClock');
      let left = ms;
      while (left > 0) {
        const d = Math.min(step, left);
        clock.advance(d);
        left -= d;
        await settle();
      }
    },
    alerts(rule) {
      return alerting.engine.records().filter((a) => rule === undefined || a.rule === rule);
    },
    lines() {
      return sent.flatMap((s) => s.notification.items.map((i) => `${i.event} ${[i.labels.service, i.labels.instance].filter(Boolean).join('/')}`));
    },
    stop: () => alerting.stop(),
  };
}

/** A section with one webhook notifier that the harness records, sent at once (group_wait 0). */
export function section(rules: unknown[], extra: Record<string, unknown> = {}) {
  return {
    notifiers: { hook: { kind: 'webhook' as const, url: 'http://127.0.0.1:9/hook' } },
    defaults: { notify: ['hook'], group_wait: '0s', group_interval: '1m', ...((extra.defaults as object) ?? {}) },
    rules: rules as never,
    ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== 'defaults')),
  };
}
