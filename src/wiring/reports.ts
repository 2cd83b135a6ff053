/**
 * Reports in a daemon: the report source over its history store, the
 * report routes (a server extension) and, when the config has
 * `reports.schedules`, the scheduler. A store with no report source (not
 * SQLite, or ":memory:") gets routes that answer 404 and no schedules.
 */
import type { Clock } from '../core/clock.js';
import type { Config } from '../config/schema.js';
import { reportRoutes } from '../server/report-routes.js';
import { reportOpenApiPaths, reportOpenApiSchemas } from '../server/report-openapi.js';
import type { ServerExtension } from '../server/extensions.js';
import { ReportScheduler, type ReportLogger } from '../reports/scheduler.js';
import { sqliteReportSource, type OpenedSource } from '../reports/sqlite-source.js';
import { SqliteHistoryStore } from '../store/sqlite.js';
import type { HistoryStore } from '../store/types.js';

export interface DaemonReports {
  readonly extension: ServerExtension;
  readonly scheduler: ReportScheduler | null;
  stop(): Promise<void>;
}

export interface DaemonReportsOptions {
  config: Config;
  store: HistoryStore;
  clock: Clock;
  logger: ReportLogger;
  token?: string;
  protectReads?: boolean;
  /** Replaces secrets in report text (the daemon's SecretSet.redact). */
  redact?: (text: string) => string;
}

/** Open the report source, start the schedules, build the routes. */
export async function startDaemonReports(options: DaemonReportsOptions): Promise<DaemonReports> {
  const { config, store, clock } = options;
  const opened: OpenedSource | null = store instanceof SqliteHistoryStore && store.path !== ':memory:' ? await sqliteReportSource(store, config) : null;
  const reportsConfig = config.reports;
  let scheduler: ReportScheduler | null = null;
  if (reportsConfig && reportsConfig.schedules.length > 0) {
    if (!opened) options.logger.warn({}, 'reports.schedules: this history store has no report source (SQLite file needed); schedules are off');
    else {
      scheduler = new ReportScheduler({
        config: reportsConfig,
        notifiers: config.alerts?.notifiers ?? {},
        source: opened.source,
        clock,
        logger: options.logger,
        ...(options.redact ? { redact: options.redact } : {}),
      });
      scheduler.start();
    }
  }
  const extension: ServerExtension = {
    register: (app) =>
      reportRoutes(app, {
        source: opened?.source ?? null,
        now: () => clock.now(),
        ...(options.token !== undefined ? { token: options.token } : {}),
        ...(options.protectReads !== undefined ? { protectReads: options.protectReads } : {}),
        ...(scheduler ? { schedules: scheduler } : {}),
        ...(options.redact ? { redact: options.redact } : {}),
      }),
    openApiPaths: reportOpenApiPaths,
    openApiSchemas: reportOpenApiSchemas,
  };
  return {
    extension,
    scheduler,
    async stop() {
      await scheduler?.stop();
      await opened?.close();
    },
  };
}
