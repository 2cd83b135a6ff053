/**
 * OpenAPI entries of the dashboard's routes, status pages and badges
 * (spread into the API's document by openapi.ts).
 */
export function webOpenApiPaths(): Record<string, unknown> {
  const ok = (description: string) => ({ description });
  const svg = (description: string) => ({ description, content: { 'image/svg+xml': {} } });
  const service = { name: 'service', in: 'path', required: true, schema: { type: 'string' } };
  const badge = (summary: string, extra: unknown[] = []) => ({
    get: {
      summary,
      parameters: [service, ...extra],
      responses: {
        200: svg('the badge; Cache-Control public with a max-age'),
        401: svg('reads are protected and the service is on no public status page'),
        404: svg('unknown service'),
      },
    },
  });
  return {
    '/api/v1/web/summary': {
      get: {
        summary:
          'Every service in one answer for the dashboard: status, score, cause, instance counts by status, tags, zones, depends_on, critical, and a sparkline (lowest score of each of the last 60 minutes, oldest first, null for no data, run-length encoded as [value, count, …]); lastEventId to resume /api/v1/web/events from',
        responses: { 200: ok('{ at, lastEventId, mesh, uptimeSource, services: [...] }') },
      },
    },
    '/api/v1/web/services/{service}': {
      get: {
        summary:
          'One service for the dashboard: its summary, dependents, latency of the last 5 minutes, and its instances worst first with score, latency (longest last-result duration of its checks, ms) and checks',
        parameters: [
          service,
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
          { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
        ],
        responses: { 200: ok('{ ...summary, dependents, latency, total, offset, instances }'), 404: ok('unknown service') },
      },
    },
    '/api/v1/web/services/{service}/uptime': {
      get: {
        summary:
          'Uptime per UTC day, oldest first (today so far last). source "uptime": from the stored transitions; "rollups": share of passing check results (an estimate, until the store has uptime); "none": no store',
        parameters: [service, { name: 'days', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 90, default: 30 } }],
        responses: { 200: ok('{ service, source, days: [{ start, uptimePercent, incidents }] }'), 404: ok('unknown service') },
      },
    },
    '/api/v1/web/events': {
      get: {
        summary:
          'Server-Sent Events for the dashboard: `transition` (id, the check transition, inst: the instance after it, svcs: its service and any dependent it changed, mesh), `tick` once a minute (sparkline minute and scores), `hello` on a fresh start, `reset` when Last-Event-ID cannot be resumed (re-read /api/v1/web/summary)',
        parameters: [{ name: 'last_event_id', in: 'query', schema: { type: 'integer' }, description: 'Same as the Last-Event-ID header' }],
        responses: { 200: ok('text/event-stream') },
      },
    },
    '/api/v1/status/{slug}': {
      get: {
        summary:
          'Data of one status page (status_pages in the config): its services only, with status, 90 days of uptime per day, current incidents and incident history. Public unless the page sets public: false',
        parameters: [{ name: 'slug', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { 200: ok('the page'), 401: ok('the page needs its token'), 404: ok('no such page') },
      },
    },
    '/badge/{service}/status.svg': badge('Status badge (healthy, degraded, down, unknown)'),
    '/badge/{service}/uptime.svg': badge('Uptime badge over a period (n/a with no history)', [
      { name: 'period', in: 'query', schema: { type: 'string', default: '30d' }, description: 'e.g. 24h, 7d, 30d; at most 90d' },
    ]),
    '/badge/{service}/latency.svg': badge('Mean latency of the last 5 minutes of results (n/a with none)'),
  };
}
