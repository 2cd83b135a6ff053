/**
 * The published JSON Schema of a JSON report (docs/report-schema.json holds
 * the same object; a test keeps them equal and validates every report type
 * against it with ajv).
 */
const time = { type: 'number', description: 'epoch milliseconds' };
const nullableNumber = { type: ['number', 'null'] };
const status = { enum: ['HEALTHY', 'DEGRADED', 'UNHEALTHY', 'UNKNOWN'] };

export const REPORT_JSON_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://healthmesh.dev/schemas/report-1.json',
  title: 'healthmesh report',
  type: 'object',
  additionalProperties: false,
  required: ['schemaVersion', 'type', 'title', 'generatedAt', 'range', 'granularity', 'filters', 'notes', 'tables', 'charts'],
  properties: {
    schemaVersion: { const: 1 },
    type: { enum: ['summary', 'detailed', 'metrics', 'alerts', 'trends'] },
    title: { type: 'string' },
    generatedAt: time,
    range: {
      type: 'object',
      additionalProperties: false,
      required: ['from', 'to', 'timeZone'],
      properties: { from: time, to: time, timeZone: { type: 'string', description: 'IANA zone of shown times and day periods' } },
    },
    granularity: { enum: ['minute', 'hour', 'day'] },
    filters: {
      type: 'object',
      additionalProperties: false,
      required: ['services', 'tags', 'zones'],
      properties: {
        services: { type: 'array', items: { type: 'string' } },
        tags: { type: 'array', items: { type: 'string' } },
        zones: { type: 'array', items: { type: 'string' } },
      },
    },
    notes: { type: 'array', items: { type: 'string' }, description: 'rules the figures follow and what could not be shown' },
    tables: { type: 'array', items: { $ref: '#/definitions/table' } },
    charts: { type: 'array', items: { $ref: '#/definitions/chart' } },
  },
  definitions: {
    table: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'title', 'description', 'columns', 'rows'],
      properties: {
        id: { type: 'string' },
        title: { type: 'string' },
        description: { type: 'string' },
        columns: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['key', 'title', 'type'],
            properties: {
              key: { type: 'string' },
              title: { type: 'string' },
              type: {
                enum: ['text', 'integer', 'number', 'percent', 'duration', 'time', 'status'],
                description: 'time: epoch ms; duration: ms; percent: 0–100; status: a health status',
              },
            },
          },
        },
        rows: { type: 'array', items: { type: 'array', items: { type: ['string', 'number', 'null'] } } },
      },
    },
    chart: {
      oneOf: [
        {
          type: 'object',
          additionalProperties: false,
          required: ['kind', 'id', 'title', 'bars'],
          properties: {
            kind: { const: 'uptime_bars' },
            id: { type: 'string' },
            title: { type: 'string' },
            bars: {
              type: 'array',
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['label', 'uptimePercent', 'healthy', 'degraded', 'unhealthy', 'unknown', 'maintenance'],
                properties: {
                  label: { type: 'string' },
                  uptimePercent: nullableNumber,
                  healthy: { type: 'number' },
                  degraded: { type: 'number' },
                  unhealthy: { type: 'number' },
                  unknown: { type: 'number' },
                  maintenance: { type: 'number' },
                },
              },
            },
          },
        },
        {
          type: 'object',
          additionalProperties: false,
          required: ['kind', 'id', 'title', 'subject', 'points'],
          properties: {
            kind: { const: 'latency' },
            id: { type: 'string' },
            title: { type: 'string' },
            subject: { type: 'string' },
            points: {
              type: 'array',
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['t', 'p50', 'p95', 'p99', 'avg', 'min', 'max'],
                properties: {
                  t: time,
                  p50: nullableNumber,
                  p95: nullableNumber,
                  p99: nullableNumber,
                  avg: nullableNumber,
                  min: nullableNumber,
                  max: nullableNumber,
                },
              },
            },
          },
        },
        {
          type: 'object',
          additionalProperties: false,
          required: ['kind', 'id', 'title', 'from', 'to', 'rows'],
          properties: {
            kind: { const: 'status_timeline' },
            id: { type: 'string' },
            title: { type: 'string' },
            from: time,
            to: time,
            rows: {
              type: 'array',
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['label', 'segments'],
                properties: {
                  label: { type: 'string' },
                  segments: {
                    type: 'array',
                    items: {
                      type: 'object',
                      additionalProperties: false,
                      required: ['from', 'to', 'status'],
                      properties: { from: time, to: time, status: { enum: [...status.enum, 'MAINTENANCE'] } },
                    },
                  },
                },
              },
            },
          },
        },
        {
          type: 'object',
          additionalProperties: false,
          required: ['kind', 'id', 'title', 'subject', 'unit', 'points', 'forecast', 'anomalies'],
          properties: {
            kind: { const: 'series' },
            id: { type: 'string' },
            title: { type: 'string' },
            subject: { type: 'string' },
            unit: { type: 'string' },
            points: {
              type: 'array',
              items: { type: 'object', additionalProperties: false, required: ['t', 'value'], properties: { t: time, value: { type: 'number' } } },
            },
            forecast: {
              type: 'array',
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['t', 'value', 'lower', 'upper'],
                properties: { t: time, value: { type: 'number' }, lower: { type: 'number' }, upper: { type: 'number' } },
              },
            },
            anomalies: { type: 'array', items: time },
          },
        },
      ],
    },
  },
} as const;
