/**
 * The report routes (a server extension, see wiring/reports.ts):
 *
 * | route | what |
 * |---|---|
 * | `GET /api/v1/reports?type=&format=&from=&to=&tz=&service=&tag=&zone=&granularity=&slo=&table=` | a report streamed as a file (Content-Type, Content-Disposition with its name) |
 * | `GET /api/v1/reports/schedules` | each scheduled report: last run, next run, last error, files kept |
 * | `POST /api/v1/reports/schedules/:name/run` | run one now (token) |
 * | `GET /api/v1/reports/files/:schedule/:file` | a kept file of a scheduled report (the link webhook notices carry) |
 *
 * The document is built before the first byte is sent, so a bad request or
 * a failed build is an ordinary error answer; then it is rendered straight
 * into the response. Builds are heavy: at most `maxConcurrent` run at once,
 * the next gets 429. Reads need the bearer token with `protectReads`.
 */
import { authenticatedBy } from '../security/guard.js';
import { createReadStream, statSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HealthmeshError, UsageError } from '../core/errors.js';
import { parseFormat } from '../reports/formats/index.js';
import { prepareReport } from '../reports/generate.js';
import { checkTimeZone } from '../reports/periods.js';
import type { ScheduleStatus } from '../reports/schedule-types.js';
import type { ReportSource } from '../reports/source.js';
import { parseReportTime } from '../reports/time-input.js';
import { REPORT_TYPES, type Granularity, type ReportRequest } from '../reports/types.js';
import { bearerMatches } from './auth.js';

export interface ReportRoutesOptions {
  /** Where reports read from; null when this daemon keeps no history (the routes answer 404). */
  source: ReportSource | null;
  /** Epoch ms now (the daemon's clock). */
  now: () => number;
  token?: string;
  protectReads?: boolean;
  /** Scheduled reports, when the config has some. */
  schedules?: { list(): ScheduleStatus[]; run(name: string): Promise<ScheduleStatus>; filePath(schedule: string, file: string): string | undefined };
  /** Most reports built at once (default 2). */
  maxConcurrent?: number;
  /** Replaces secrets in report text (the daemon's SecretSet.redact). */
  redact?: (text: string) => string;
}

type Query = Record<string, string | string[] | undefined>;

function one(q: Query, name: string): string | undefined {
  const v = q[name];
  if (Array.isArray(v)) {
    if (v.length > 1) throw new UsageError(`${name}: give it once`);
    return v[0];
  }
  return v === '' ? undefined : v;
}

function many(q: Query, name: string): string[] {
  const v = q[name];
  return (Array.isArray(v) ? v : v === undefined ? [] : [v])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The request a query asks for (fields named in errors as in the query). */
export function reportRequestOf(q: Query, now: number): ReportRequest {
  const type = one(q, 'type') ?? 'summary';
  const found = REPORT_TYPES.find((t) => t === type);
  if (!found) throw new UsageError(`type: "${type}" is not a report type (use ${REPORT_TYPES.join(', ')})`);
  const tz = one(q, 'tz') ?? 'UTC';
  checkTimeZone(tz);
  const g = one(q, 'granularity') ?? 'auto';
  const granularity = (['auto', 'minute', 'hour', 'day'] as const).find((x) => x === g);
  if (!granularity) throw new UsageError(`granularity: "${g}" is not one of auto, minute, hour, day`);
  const slo = one(q, 'slo');
  const objective = slo === undefined ? undefined : Number(slo) > 1 ? Number(slo) / 100 : Number(slo);
  return {
    type: found,
    from: parseReportTime(one(q, 'from') ?? '30d', now, 'from', tz),
    to: parseReportTime(one(q, 'to') ?? 'now', now, 'to', tz),
    timeZone: tz,
    services: many(q, 'service'),
    tags: many(q, 'tag'),
    zones: many(q, 'zone'),
    granularity: granularity satisfies Granularity | 'auto',
    ...(objective !== undefined ? { sloObjective: objective } : {}),
  };
}

export async function reportRoutes(app: FastifyInstance, options: ReportRoutesOptions): Promise<void> {
  const max = options.maxConcurrent ?? 2;
  let running = 0;
  const guard = (request: FastifyRequest, mutating: boolean): void => {
    // The server's guard (security/guard.ts) already checked this request's token and scope.
    if (authenticatedBy(request)) return;
    if (!mutating && !options.protectReads) return;
    if (!options.token) {
      if (mutating) throw new HealthmeshError('unauthorized', 'running a scheduled report over the API needs server.token (or HEALTHMESH_API_TOKEN) to be set');
      return;
    }
    if (!bearerMatches(request.headers.authorization, options.token)) throw new HealthmeshError('unauthorized', 'a valid bearer token is required');
  };

  app.get<{ Querystring: Query }>('/api/v1/reports', async (request, reply) => {
    guard(request, false);
    const source = options.source;
    if (!source)
      throw new HealthmeshError('not_found', 'this daemon keeps no history to report on (storage.path is ":memory:" or the backend has no report source)');
    const now = Math.floor(options.now());
    const req = reportRequestOf(request.query, now);
    const format = parseFormat(one(request.query, 'format') ?? 'json');
    const table = one(request.query, 'table');
    if (running >= max) {
      reply.header('retry-after', '5');
      return reply.code(429).send({ error: 'busy', message: `${max} reports are being built; try again shortly` });
    }
    running++;
    let prepared: Awaited<ReturnType<typeof prepareReport>>;
    try {
      prepared = await prepareReport({
        source,
        request: req,
        format,
        now,
        // Streamed once: rows may go as they are written.
        render: { consumeRows: true, ...(table ? { table } : {}) },
        ...(options.redact ? { redact: options.redact } : {}),
      });
    } catch (err) {
      running--;
      throw err;
    }
    const body = new PassThrough();
    reply.header('content-type', prepared.contentType);
    reply.header('content-disposition', `attachment; filename="${prepared.fileName}"`);
    reply.header('cache-control', 'no-store');
    prepared
      .write(body)
      .catch((err: unknown) => body.destroy(err as Error))
      .finally(() => running--);
    return reply.send(body);
  });

  app.get('/api/v1/reports/schedules', async (request) => {
    guard(request, false);
    return { items: options.schedules?.list() ?? [] };
  });

  app.post<{ Params: { name: string } }>('/api/v1/reports/schedules/:name/run', async (request) => {
    guard(request, true);
    if (!options.schedules) throw new HealthmeshError('not_found', 'no scheduled reports are configured (reports.schedules)');
    return options.schedules.run(request.params.name);
  });

  app.get<{ Params: { schedule: string; file: string } }>('/api/v1/reports/files/:schedule/:file', async (request, reply) => {
    guard(request, false);
    const { schedule, file } = request.params;
    const path = options.schedules?.filePath(schedule, file);
    const size = path ? fileSize(path) : null;
    if (!path || size === null) throw new HealthmeshError('not_found', `no report file "${file}" of schedule "${schedule}"`);
    const ext = file.slice(file.lastIndexOf('.') + 1);
    reply.header('content-type', CONTENT_TYPES[ext] ?? 'application/octet-stream');
    reply.header('content-length', String(size));
    reply.header('content-disposition', `attachment; filename="${file}"`);
    return reply.send(createReadStream(path));
  });
}

const CONTENT_TYPES: Record<string, string> = {
  json: 'application/json; charset=utf-8',
  html: 'text/html; charset=utf-8',
  csv: 'text/csv; charset=utf-8; header=present',
  zip: 'application/zip',
  md: 'text/markdown; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

function fileSize(path: string): number | null {
  try {
    const st = statSync(path);
    return st.isFile() ? st.size : null;
  } catch {
    return null;
  }
}
