/**
 * The `reports:` section: reports made on a cron schedule (croner), written
 * to a folder and/or sent through notifiers of `alerts.notifiers` (email:
 * attached; webhook: a JSON notice with a link), with retention of the
 * files written (`keep` newest, `max_age`).
 */
import { Cron } from 'croner';
import { z } from 'zod';
import { REPORT_FORMATS, REPORT_TYPES } from '../reports/types.js';
import { positiveDuration } from './common.js';

function validCron(pattern: string): boolean {
  try {
    new Cron(pattern, { paused: true }).stop();
    return true;
  } catch {
    return false;
  }
}

function validZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const names = z.array(z.string().min(1)).default([]);

export const reportScheduleSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, "_", "." and "-"')
    .meta({ description: 'Names the schedule and its sub-folder' }),
  cron: z.string().refine(validCron, { message: 'not a cron expression (e.g. "0 8 * * MON": minute hour day month weekday)' }),
  timezone: z
    .string()
    .refine(validZone, { message: 'not an IANA time zone (e.g. UTC, Europe/Paris)' })
    .default('UTC')
    .meta({ description: 'Zone of the cron and of the report' }),
  type: z.enum(REPORT_TYPES).default('summary'),
  format: z.enum(REPORT_FORMATS).default('html'),
  range: positiveDuration.default(7 * 86_400_000).meta({ description: 'The report covers this long before each run' }),
  services: names,
  tags: names,
  zones: names,
  granularity: z.enum(['auto', 'minute', 'hour', 'day']).default('auto'),
  slo: z.number().gt(0).lt(100).optional().meta({ description: 'Availability objective in %, e.g. 99.9' }),
  folder: z.string().min(1).optional().meta({ description: 'Where files go (default: reports.folder/<name>)' }),
  write: z.boolean().default(true).meta({ description: 'Keep the file in the folder (false: only send it)' }),
  notify: names.meta({ description: 'Notifiers of alerts.notifiers (email: attached; webhook: a notice with a link)' }),
  keep: z.number().int().min(1).optional().meta({ description: 'Keep at most this many files of this schedule (newest)' }),
  max_age: positiveDuration.optional().meta({ description: 'Delete files of this schedule older than this' }),
  retries: z.number().int().min(0).max(20).default(3).meta({ description: 'Tries again after a failure (disk, notifier)' }),
  retry_backoff: positiveDuration.default(60_000).meta({ description: 'First retry after this long; doubles each try' }),
});

export const reportsSchema = z
  .strictObject({
    folder: z.string().min(1).default('reports').meta({ description: 'Folder of scheduled report files' }),
    link_base: z
      .url({ protocol: /^https?$/ })
      .optional()
      .meta({ description: 'Base URL of this daemon for links in webhook notices' }),
    schedules: z.array(reportScheduleSchema).default([]),
  })
  .superRefine((r, ctx) => {
    const seen = new Set<string>();
    r.schedules.forEach((s, i) => {
      if (seen.has(s.name)) ctx.addIssue({ code: 'custom', path: ['schedules', i, 'name'], message: `"${s.name}" is used twice`, input: s.name });
      seen.add(s.name);
      if (!s.write && s.notify.length === 0)
        ctx.addIssue({ code: 'custom', path: ['schedules', i, 'write'], message: 'write: false needs notify: (else the report goes nowhere)', input: s.write });
    });
  });

export type ReportsConfig = z.output<typeof reportsSchema>;
export type ReportScheduleConfig = z.output<typeof reportScheduleSchema>;
