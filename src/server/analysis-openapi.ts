/**
 * OpenAPI entries of the analysis routes (analysis-routes.ts), with the
 * answer's schema written out: each part nullable, with its reason.
 */

const num = { type: 'number' };
const nullableNum = { type: ['number', 'null'] };
const str = { type: 'string' };
const nullableStr = { type: ['string', 'null'] };
const obj = (properties: Record<string, unknown>, required = Object.keys(properties)) => ({ type: 'object', properties, required });
const nullable = (schema: Record<string, unknown>) => ({ anyOf: [schema, { type: 'null' }] });

const trend = obj(
  {
    series: str,
    direction: { type: 'string', enum: ['improving', 'stable', 'degrading', 'volatile'] },
    slopePerSecond: { ...num, description: 'Theil-Sen slope, value units per second' },
    level: num,
    change: num,
    r2: num,
    confidence: { ...num, description: '1 - p of the Mann-Kendall test (autocorrelation-corrected)' },
    pValue: num,
    n: num,
    spanMs: num,
    median: num,
    residualSigma: num,
    autocorrelation: num,
    kendallS: num,
    kendallVariance: num,
  },
  ['direction', 'slopePerSecond', 'confidence', 'r2', 'n'],
);

const interval = obj({ at: num, value: num, lower: num, upper: num });
const forecast = obj({
  series: str,
  threshold: nullableNum,
  crossing: nullable(obj({ threshold: num, already: { type: 'boolean' }, at: nullableNum, earliest: nullableNum, latest: nullableNum })),
  interval,
  coverage: num,
  level: num,
  slopePerSecond: num,
  stepMs: num,
  reachMs: { ...num, description: 'How far ahead the forecast reaches, ms (the history it learned from)' },
  damped: { type: 'boolean' },
});
const anomaly = obj({ at: num, score: num, value: num, level: { type: 'string', enum: ['check', 'instance', 'service'] }, subject: str, series: str });
const burn = obj({
  condition: obj({ name: str, severity: { type: 'string', enum: ['page', 'ticket'] }, longMs: num, shortMs: num, factor: num }),
  longBurn: num,
  shortBurn: num,
  firing: { type: 'boolean' },
});
const slo = obj({
  kind: { type: 'string', enum: ['availability', 'latency'] },
  objective: { ...num, description: 'share, e.g. 0.999' },
  objectivePercent: num,
  windowMs: num,
  latencyThresholdMs: nullableNum,
  excludeMaintenance: { type: 'boolean' },
  good: num,
  total: num,
  attainment: nullableNum,
  budgetRemaining: { ...num, description: '1 untouched, 0 spent, negative overspent' },
  burns: { type: 'array', items: burn },
  firing: { type: ['string', 'null'], enum: ['page', 'ticket', null] },
  at: num,
});
const seriesView = obj({
  series: str,
  points: num,
  last: nullableNum,
  lastAt: nullableNum,
  trend: nullable(trend),
  forecast: nullable(forecast),
  anomaly: obj({ score: num, anomaly: { type: 'boolean' }, channel: nullableStr, lastAnomalyAt: nullableNum, flagged: num, ongoing: { type: 'boolean' } }),
  reasons: obj({ trend: nullableStr, forecast: nullableStr }),
});

/** `components.schemas` entries. */
export function analysisOpenApiSchemas(): Record<string, unknown> {
  return {
    Analysis: obj({
      level: { type: 'string', enum: ['service', 'instance', 'check'] },
      id: str,
      at: num,
      series: { ...str, description: 'The series of the headline trend and forecast: score (service, instance) or latency_ms (check)' },
      trend: nullable(trend),
      forecast: nullable(forecast),
      anomalies: { anyOf: [{ type: 'array', items: anomaly }, { type: 'null' }] },
      slo: nullable(slo),
      maintenance: nullable(obj({ name: str, start: num, end: num })),
      reasons: obj({ trend: nullableStr, forecast: nullableStr, anomalies: nullableStr, slo: nullableStr }),
      details: { type: 'array', items: seriesView },
    }),
  };
}

const answer = {
  200: {
    description: 'The analysis; a part the data does not support is null with its reason in reasons',
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Analysis' } } },
  },
  404: { description: 'no such service, instance or check' },
};
const param = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string' } });

/** `paths` entries. */
export function analysisOpenApiPaths(): Record<string, unknown> {
  return {
    '/api/v1/services/{service}/analysis': {
      get: {
        summary: "Trend (combined from its instances' scores), forecast of its score under 50, recent anomalies, SLO and error budget",
        parameters: [param('service')],
        responses: answer,
      },
    },
    '/api/v1/instances/{id}/analysis': {
      get: { summary: 'Trend, forecast and anomalies of an instance (score); id is service/id or a unique id', parameters: [param('id')], responses: answer },
    },
    '/api/v1/checks/{id}/analysis': {
      get: {
        summary: 'Trend, forecast (against degraded_after, else the timeout) and anomalies of a check (latency_ms; failure rate in details)',
        parameters: [param('id')],
        responses: answer,
      },
    },
  };
}
