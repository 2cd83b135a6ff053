/**
 * Stand-ins, answered inside the browser (page.route), for the routes still
 * being built on other branches: alerts and silences (issue 16), analysis
 * (issue 17), rollups, transitions and uptime (issue 14). Their bodies are
 * the shapes web/src/api.ts assumes, so these fixtures are the contract to
 * reconcile when the real routes land. Everything else goes to the daemon.
 */
import type { Page, Route } from 'playwright-core';

export interface FutureApi {
  /** Requests the stand-ins answered: method, path and Authorization header. */
  calls: Array<{ method: string; path: string; authorization: string | undefined; body: unknown }>;
  silences: Array<Record<string, unknown>>;
}

const HOUR = 3_600_000;

export async function standInFutureRoutes(page: Page, token: string, now = Date.now()): Promise<FutureApi> {
  const api: FutureApi = { calls: [], silences: [] };
  const alerts = [
    {
      id: 'a-1',
      rule: 'service-down',
      labels: { rule: 'service-down', service: 'api' },
      annotations: {},
      level: 'critical',
      state: 'firing',
      activeSince: now - 5 * 60_000,
      firedAt: now - 4 * 60_000,
      resolvedAt: null,
      value: null,
      summary: 'api is UNHEALTHY',
      foldedInto: null,
      timeline: [
        { at: now - 5 * 60_000, type: 'pending' },
        { at: now - 4 * 60_000, type: 'firing' },
        { at: now - 4 * 60_000 + 500, type: 'delivered', notifier: 'ops-webhook' },
      ],
    },
    {
      id: 'a-0',
      rule: 'slow',
      labels: { rule: 'slow', service: 'web' },
      annotations: {},
      level: 'warning',
      state: 'resolved',
      activeSince: now - 3 * HOUR,
      firedAt: now - 3 * HOUR,
      resolvedAt: now - 2 * HOUR,
      value: 812,
      summary: 'p95 latency 812 ms over 500 ms',
      foldedInto: null,
    },
  ];
  const json = (route: Route, status: number, body: unknown): Promise<void> =>
    route.fulfill({ status, contentType: 'application/json', body: body === undefined ? '' : JSON.stringify(body) });
  const authorized = (route: Route): boolean => route.request().headers().authorization === `Bearer ${token}`;
  const record = (route: Route): void => {
    const r = route.request();
    api.calls.push({ method: r.method(), path: new URL(r.url()).pathname, authorization: r.headers().authorization, body: r.postDataJSON() ?? null });
  };

  await page.route(/\/api\/v1\/alerts(\/[^?]*)?(\?.*)?$/, async (route) => {
    record(route);
    const path = new URL(route.request().url()).pathname;
    if (path === '/api/v1/alerts') return json(route, 200, { items: alerts.map(({ timeline: _t, ...a }) => a) });
    const found = alerts.find((a) => path === `/api/v1/alerts/${a.id}`);
    return found ? json(route, 200, found) : json(route, 404, { error: 'not_found', message: 'no alert' });
  });
  await page.route(/\/api\/v1\/silences(\/[^?]*)?(\?.*)?$/, async (route) => {
    record(route);
    const req = route.request();
    const path = new URL(req.url()).pathname;
    if (req.method() === 'GET') return json(route, 200, { items: api.silences });
    if (!authorized(route)) return json(route, 401, { error: 'unauthorized', message: 'a valid bearer token is required' });
    if (req.method() === 'POST') {
      const body = req.postDataJSON() as Record<string, unknown>;
      const silence = { id: `s-${api.silences.length + 1}`, ...body, createdAt: Date.now(), source: 'api' };
      api.silences.push(silence);
      return json(route, 201, silence);
    }
    if (req.method() === 'DELETE') {
      const id = path.split('/').pop();
      api.silences = api.silences.filter((s) => s.id !== id);
      return route.fulfill({ status: 204 });
    }
    return json(route, 405, { error: 'method' });
  });
  await page.route(/\/api\/v1\/services\/[^/]+\/analysis$/, (route) => {
    record(route);
    return json(route, 200, {
      level: 'service',
      id: 'api',
      at: Date.now(),
      series: 'score',
      trend: { series: 'score', direction: 'degrading', slopePerSecond: -0.001, r2: 0.6, confidence: 0.97, n: 64 },
      forecast: null,
      anomalies: [],
      slo: {
        kind: 'availability',
        objective: 0.999,
        objectivePercent: 99.9,
        windowMs: 30 * 24 * HOUR,
        latencyThresholdMs: null,
        excludeMaintenance: false,
        good: 99_950,
        total: 100_000,
        attainment: 0.9995,
        budgetRemaining: 0.5,
        burns: [{ condition: { name: '1h/5m', severity: 'page', longMs: HOUR, shortMs: 5 * 60_000, factor: 14.4 }, longBurn: 2, shortBurn: 1, firing: false }],
        firing: null,
        at: Date.now(),
      },
      maintenance: null,
      reasons: { trend: null, forecast: 'the series has no significant trend (p = 0.4); a crossing date would be a guess', anomalies: null, slo: null },
      details: [],
    });
  });
  return api;
}

/** Minute rollups of a check over the last hour, and two transitions in it (the history routes' assumed shapes). */
export async function standInHistoryRoutes(page: Page, now = Date.now()): Promise<FutureApi> {
  const api: FutureApi = { calls: [], silences: [] };
  await page.route(/\/api\/v1\/(checks|instances)\/.+\/rollups\?.*$/, (route) => {
    const r = route.request();
    api.calls.push({ method: r.method(), path: new URL(r.url()).pathname, authorization: undefined, body: null });
    const start = Math.floor((now - HOUR) / 60_000) * 60_000;
    const items = Array.from({ length: 60 }, (_, i) => {
      const avg = 20 + 10 * Math.sin(i / 6);
      return {
        bucketStart: start + i * 60_000,
        count: 6,
        failures: i >= 40 && i < 45 ? 6 : 0,
        minMs: avg * 0.5,
        avgMs: avg,
        p95Ms: avg * 1.8,
        maxMs: avg * 2.5,
        statusCounts: i >= 40 && i < 45 ? { HEALTHY: 0, DEGRADED: 0, UNHEALTHY: 6, UNKNOWN: 0 } : { HEALTHY: 6, DEGRADED: 0, UNHEALTHY: 0, UNKNOWN: 0 },
      };
    });
    return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ items }) });
  });
  await page.route(/\/api\/v1\/transitions\?.*$/, (route) => {
    const r = route.request();
    api.calls.push({ method: r.method(), path: new URL(r.url()).pathname, authorization: undefined, body: null });
    const check = new URL(r.url()).searchParams.get('check') ?? '';
    const [service = '', instance = ''] = check.split('/');
    const base = { checkId: check, service, instance, reason: 'connect_refused', output: '' };
    const items = [
      { ...base, from: 'UNHEALTHY', to: 'HEALTHY', reason: 'ok', at: now - 15 * 60_000 },
      { ...base, from: 'HEALTHY', to: 'UNHEALTHY', at: now - 20 * 60_000 },
    ];
    return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ items, nextCursor: null }) });
  });
  return api;
}
