/** OpenAPI entries of the report routes (report-routes.ts). */
import { REPORT_JSON_SCHEMA } from '../reports/formats/json-schema.js';

const q = (name: string, description: string, schema: Record<string, unknown> = { type: 'string' }) => ({ name, in: 'query', schema, description });

/** `components.schemas` entries. */
export function reportOpenApiSchemas(): Record<string, unknown> {
  const { $schema: _schema, $id: _id, definitions, ...report } = REPORT_JSON_SCHEMA;
  const ref = (s: unknown): unknown =>
    JSON.parse(
      JSON.stringify(s).replace('#/definitions/table', '#/components/schemas/ReportTable').replace('#/definitions/chart', '#/components/schemas/ReportChart'),
    );
  return {
    Report: ref(report),
    ReportTable: ref(definitions.table),
    ReportChart: ref(definitions.chart),
    ReportSchedule: {
      type: 'object',
      required: ['name', 'cron', 'type', 'format', 'nextRunAt', 'lastRunAt', 'lastSuccessAt', 'lastError', 'lastFile', 'files', 'running', 'failedTries'],
      properties: {
        name: { type: 'string' },
        cron: { type: 'string' },
        type: { type: 'string' },
        format: { type: 'string' },
        nextRunAt: { type: ['number', 'null'], description: 'epoch ms' },
        lastRunAt: { type: ['number', 'null'] },
        lastSuccessAt: { type: ['number', 'null'] },
        lastError: { type: ['string', 'null'] },
        lastFile: { type: ['string', 'null'] },
        files: { type: 'integer', description: 'report files kept in the folder' },
        running: { type: 'boolean' },
        failedTries: { type: 'integer', description: 'failed tries of the current run (0 after a success)' },
      },
    },
  };
}

/** `paths` entries. */
export function reportOpenApiPaths(): Record<string, unknown> {
  return {
    '/api/v1/reports': {
      get: {
        summary: 'A report of the stored history, streamed as a file (README "Reports")',
        parameters: [
          q('type', 'summary (default), detailed, metrics, alerts, trends', { type: 'string', enum: ['summary', 'detailed', 'metrics', 'alerts', 'trends'] }),
          q('format', 'json (default), html, csv (a zip of tables unless `table`), markdown, xlsx', {
            type: 'string',
            enum: ['json', 'html', 'csv', 'markdown', 'md', 'xlsx'],
          }),
          q('from', 'start: a duration back from now (30d, default), a date, a date-time or epoch ms'),
          q('to', 'end, exclusive (default now); same forms'),
          q('tz', 'IANA time zone for shown times and day periods (default UTC)'),
          q('service', 'only these services (comma-separated or repeated)'),
          q('tag', 'only instances with one of these tags'),
          q('zone', 'only instances in one of these zones'),
          q('granularity', 'auto (default), minute, hour, day'),
          q('slo', 'availability objective of the summary, e.g. 99.9'),
          q('table', 'csv: only this table, as text/csv'),
        ],
        responses: {
          200: {
            description: 'the report; Content-Disposition names the file',
            content: {
              'application/json': { schema: { $ref: '#/components/schemas/Report' } },
              'text/html': {},
              'text/csv': {},
              'application/zip': {},
              'text/markdown': {},
              'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': {},
            },
          },
          400: { description: 'the parameter at fault' },
          404: { description: 'no history kept' },
          429: { description: 'too many reports being built (Retry-After)' },
        },
      },
    },
    '/api/v1/reports/schedules': {
      get: {
        summary: 'Scheduled reports: last run, next run, last error',
        responses: {
          200: {
            description: '{ items }',
            content: {
              'application/json': {
                schema: { type: 'object', properties: { items: { type: 'array', items: { $ref: '#/components/schemas/ReportSchedule' } } } },
              },
            },
          },
        },
      },
    },
    '/api/v1/reports/files/{schedule}/{file}': {
      get: { summary: 'A kept file of a scheduled report', responses: { 200: { description: 'the file' }, 404: { description: 'unknown schedule or file' } } },
    },
    '/api/v1/reports/schedules/{name}/run': {
      post: {
        summary: 'Run a scheduled report now',
        security: [{ bearer: [] }],
        responses: { 200: { description: 'its status after the run' }, 401: { description: 'token' }, 404: { description: 'unknown' } },
      },
    },
  };
}
