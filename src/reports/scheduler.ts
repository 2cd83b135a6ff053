/**
 * Scheduled reports: each schedule of `reports.schedules` runs on its cron
 * (croner, in its time zone) through the injected Clock, builds its report
 * over [run − range, run), writes it to its folder (beside, then renamed),
 * sends it through its notifiers and cleans up old files (retention.ts).
 * A failed run (disk, notifier) is recorded as the schedule's last error and
 * tried again after `retry_backoff`, doubling, up to `retries` times; the
 * retry rebuilds the same run (same range, same file name) and skips
 * notifiers that already got it.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cron } from 'croner';
import type { NotifierConfig } from '../config/alerts.js';
import type { ReportScheduleConfig, ReportsConfig } from '../config/reports.js';
import { HealthmeshError } from '../core/errors.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import { deliverReport, type ReportDelivery } from './delivery.js';
import { reportFormats } from './formats/index.js';
import { prepareReport } from './generate.js';
import { cleanupReports, reportFileName, reportFiles, runTimeOf } from './retention.js';
import type { ScheduleStatus } from './schedule-types.js';
import type { ReportSource } from './source.js';

/** Longest single timer wait, ms: a far run is reached in steps (a timer cannot wait past ~24.8 days). */
const MAX_WAIT = 86_400_000;

/** What the scheduler logs. */
export interface ReportLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface ReportSchedulerOptions {
  config: ReportsConfig;
  /** alerts.notifiers, by name. */
  notifiers: Readonly<Record<string, NotifierConfig>>;
  source: ReportSource;
  clock: Clock;
  logger: ReportLogger;
  /** Replaces secrets in report text (the daemon's SecretSet.redact). */
  redact?: (text: string) => string;
  /** How a report is sent (default: deliverReport). */
  deliver?: (notifierName: string, notifier: NotifierConfig, delivery: ReportDelivery) => Promise<void>;
}

interface Entry {
  config: ReportScheduleConfig;
  cron: Cron;
  folder: string;
  status: ScheduleStatus;
  timer: TimerHandle | null;
  /** Run time of the run being tried (kept across retries), or null. */
  pendingAt: number | null;
  /** Notifiers that already got the pending run. */
  delivered: Set<string>;
  running: Promise<void> | null;
}

/** Throws a config-style error naming the field when a schedule names a notifier that cannot carry reports. */
export function checkReportNotifiers(config: ReportsConfig, notifiers: Readonly<Record<string, NotifierConfig>>): void {
  config.schedules.forEach((s, i) => {
    s.notify.forEach((name, j) => {
      const n = notifiers[name];
      const where = `reports.schedules[${i}].notify[${j}]`;
      if (!n)
        throw new HealthmeshError(
          'config_invalid',
          `${where}: no notifier "${name}" in alerts.notifiers (known: ${Object.keys(notifiers).join(', ') || 'none'})`,
        );
      if (n.kind !== 'email' && n.kind !== 'webhook')
        throw new HealthmeshError('config_invalid', `${where}: notifier "${name}" is ${n.kind}; reports go by email or webhook`);
    });
  });
}

export class ReportScheduler {
  private readonly entries = new Map<string, Entry>();
  private stopped = false;

  constructor(private readonly options: ReportSchedulerOptions) {
    checkReportNotifiers(options.config, options.notifiers);
    for (const s of options.config.schedules) {
      const folder = s.folder ?? join(options.config.folder, s.name);
      this.entries.set(s.name, {
        config: s,
        cron: new Cron(s.cron, { paused: true, timezone: s.timezone }),
        folder,
        timer: null,
        pendingAt: null,
        delivered: new Set(),
        running: null,
        status: {
          name: s.name,
          cron: s.cron,
          type: s.type,
          format: s.format,
          nextRunAt: null,
          lastRunAt: null,
          lastSuccessAt: null,
          lastError: null,
          lastFile: null,
          files: 0,
          running: false,
          failedTries: 0,
        },
      });
    }
  }

  /** Arm every schedule's next run. */
  start(): void {
    for (const e of this.entries.values()) {
      const files = e.config.write ? reportFiles(e.folder, e.config.name) : [];
      e.status.files = files.length;
      e.status.lastFile = files[0]?.file ?? null;
      this.armNext(e);
    }
  }

  /** Every schedule's status (the API's view). */
  list(): ScheduleStatus[] {
    return [...this.entries.values()].map((e) => ({ ...e.status }));
  }

  /** Path of a kept file of a schedule, or undefined (names are checked: no path escapes the folder). */
  filePath(schedule: string, file: string): string | undefined {
    const e = this.entries.get(schedule);
    if (!e || runTimeOf(schedule, file) === null) return undefined;
    return join(e.folder, file);
  }

  /** Run a schedule now (outside its cron); resolves with its status after the run. */
  async run(name: string): Promise<ScheduleStatus> {
    const e = this.entries.get(name);
    if (!e) throw new HealthmeshError('not_found', `no scheduled report "${name}" (schedules: ${[...this.entries.keys()].join(', ') || 'none'})`);
    if (e.running) throw new HealthmeshError('conflict', `scheduled report "${name}" is running`);
    await this.attempt(e, Math.floor(this.options.clock.now()), false);
    return { ...e.status };
  }

  /** Resolves once no run is in progress (tests: after advancing a fake clock). */
  async idle(): Promise<void> {
    for (;;) {
      const running = [...this.entries.values()].map((e) => e.running).filter((p): p is Promise<void> => p !== null);
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const e of this.entries.values()) {
      if (e.timer !== null) this.options.clock.clearTimeout(e.timer);
      e.timer = null;
    }
    await this.idle();
  }

  private armNext(e: Entry): void {
    if (this.stopped) return;
    const now = this.options.clock.now();
    const next = e.cron.nextRun(new Date(now))?.getTime() ?? null;
    e.status.nextRunAt = next;
    if (next !== null) this.armAt(e, next, next);
  }

  /** Fire at `due` the run of time `at` (a far `due` is reached in steps). */
  private armAt(e: Entry, due: number, at: number): void {
    if (this.stopped) return;
    const wait = due - this.options.clock.now();
    e.timer = this.options.clock.setTimeout(
      () => {
        e.timer = null;
        if (this.options.clock.now() < due) this.armAt(e, due, at);
        else void this.attempt(e, at, true);
      },
      Math.max(0, Math.min(wait, MAX_WAIT)),
    );
  }

  /** One try of the run at `at`; on failure a retry is armed while tries are left. */
  private attempt(e: Entry, at: number, scheduled: boolean): Promise<void> {
    if (e.pendingAt !== at) {
      e.pendingAt = at;
      e.delivered.clear();
      e.status.failedTries = 0;
    }
    const run = this.runOnce(e, at).then(
      () => {
        e.status.lastSuccessAt = this.options.clock.now();
        e.status.lastError = null;
        e.status.failedTries = 0;
        e.pendingAt = null;
        this.options.logger.info({ schedule: e.config.name, file: e.status.lastFile }, `scheduled report ${e.config.name} written`);
        if (scheduled) this.armNext(e);
      },
      (err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        e.status.lastError = message;
        e.status.failedTries++;
        const tries = e.status.failedTries;
        if (tries <= e.config.retries && !this.stopped) {
          const retryAt = this.options.clock.now() + e.config.retry_backoff * 2 ** (tries - 1);
          e.status.nextRunAt = retryAt;
          this.options.logger.warn({ schedule: e.config.name, err: message, retryAt }, `scheduled report ${e.config.name} failed (try ${tries}); trying again`);
          if (e.timer !== null) this.options.clock.clearTimeout(e.timer);
          this.armAt(e, retryAt, at);
        } else {
          this.options.logger.warn(
            { schedule: e.config.name, err: message },
            `scheduled report ${e.config.name} failed ${tries} times; waiting for its next run`,
          );
          e.pendingAt = null;
          if (scheduled || e.timer === null) this.armNext(e);
        }
      },
    );
    e.running = run.finally(() => {
      e.running = null;
      e.status.running = false;
    });
    return e.running;
  }

  private async runOnce(e: Entry, at: number): Promise<void> {
    const s = e.config;
    const clock = this.options.clock;
    e.status.running = true;
    e.status.lastRunAt = clock.now();
    const prepared = await prepareReport({
      source: this.options.source,
      request: {
        type: s.type,
        from: at - s.range,
        to: at,
        timeZone: s.timezone,
        services: s.services,
        tags: s.tags,
        zones: s.zones,
        granularity: s.granularity,
        ...(s.slo !== undefined ? { sloObjective: s.slo / 100 } : {}),
      },
      format: s.format,
      now: Math.floor(clock.now()),
      // Written once; delivery reads only its headings: rows may go as they are written.
      render: { consumeRows: true },
      ...(this.options.redact ? { redact: this.options.redact } : {}),
    });
    const file = reportFileName(s.name, at, reportFormats[s.format].extension(prepared.document));
    const dir = s.write ? e.folder : mkdtempSync(join(tmpdir(), 'hm-report-'));
    const path = join(dir, file);
    try {
      try {
        mkdirSync(dir, { recursive: true });
        const partial = `${path}.partial`;
        try {
          await prepared.write(createWriteStream(partial, { mode: 0o600 })); // reports hold service names, outputs and errors: owner only
          renameSync(partial, path);
        } catch (err) {
          rmSync(partial, { force: true });
          throw err;
        }
      } catch (err) {
        throw new Error(`writing ${path}: ${(err as Error).message}`);
      }
      const base = this.options.config.link_base;
      const delivery: ReportDelivery = {
        schedule: s.name,
        document: prepared.document,
        path,
        contentType: prepared.contentType,
        link: s.write && base ? `${base.replace(/\/$/, '')}/api/v1/reports/files/${encodeURIComponent(s.name)}/${encodeURIComponent(file)}` : null,
        idempotencyKey: `report-${s.name}-${at}`,
      };
      const failures: string[] = [];
      for (const name of s.notify) {
        if (e.delivered.has(name)) continue;
        try {
          await (this.options.deliver ?? deliverReport)(name, this.options.notifiers[name]!, delivery);
          e.delivered.add(name);
        } catch (err) {
          failures.push(`notify ${name}: ${(err as Error).message}`);
        }
      }
      if (s.write) {
        e.status.lastFile = file;
        const cleanup = cleanupReports(e.folder, s.name, clock.now(), {
          ...(s.keep !== undefined ? { keep: s.keep } : {}),
          ...(s.max_age !== undefined ? { maxAgeMs: s.max_age } : {}),
        });
        e.status.files = cleanup.kept.length;
      }
      if (failures.length) throw new Error(failures.join('; '));
    } finally {
      if (!s.write) rmSync(dir, { recursive: true, force: true });
    }
  }
}
