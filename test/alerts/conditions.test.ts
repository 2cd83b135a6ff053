import { afterEach, describe, expect, it } from 'vitest';
import { alertId } from '../../src/alerts/rules.js';
import { harness, MIN, SEC, section, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

describe('status condition', () => {
  it('check scope: fires on an UNHEALTHY result of a matching check and resolves on HEALTHY', async () => {
    h = await harness(section([{ name: 'down', match: { service: 'api' }, when: { kind: 'status', is: 'UNHEALTHY' }, level: 'critical' }]));
    h.result('api/a1/http', 'UNHEALTHY');
    h.result('web/w1/http', 'UNHEALTHY'); // not matched
    await h.advance(1 * SEC);
    expect(h.lines()).toEqual(['firing api/a1']);
    expect(h.sent[0]!.notification.level).toBe('critical');
    h.result('api/a1/http', 'HEALTHY');
    await h.advance(2 * MIN);
    expect(h.lines()).toEqual(['firing api/a1', 'resolved api/a1']);
  });

  it('service scope reads the rollup status, not check results', async () => {
    h = await harness(section([{ name: 'svc', scope: 'service', when: { kind: 'status', is: ['UNHEALTHY', 'DEGRADED'] } }]));
    h.result('api/a1/http', 'UNHEALTHY');
    await h.advance(SEC);
    expect(h.sent).toHaveLength(0);
    h.serviceStatus('api', 'DEGRADED');
    await h.advance(SEC);
    expect(h.lines()).toEqual(['firing api']);
    expect(h.alerts('svc')[0]!.labels).toEqual({ rule: 'svc', service: 'api' });
  });

  it('matches by tags and zone of the instance', async () => {
    h = await harness(section([{ name: 'canary', match: { tags: ['canary'], zone: 'eu-*' }, when: { kind: 'status' } }]), {
      instances: { 'api/a1': { tags: ['canary'], zone: 'eu-1' }, 'api/a2': { tags: ['canary'], zone: 'us-1' }, 'api/a3': { tags: [], zone: 'eu-1' } },
    });
    for (const i of ['a1', 'a2', 'a3']) h.result(`api/${i}/http`, 'UNHEALTHY');
    await h.advance(SEC);
    expect(h.lines()).toEqual(['firing api/a1']);
  });

  it('keeps one alert per rule and labels: the same id from firing to resolved and when it fires again', async () => {
    h = await harness(section([{ name: 'down', when: { kind: 'status' } }]));
    h.result('api/a1/http', 'UNHEALTHY');
    await h.advance(SEC);
    const first = h.alerts()[0]!;
    h.result('api/a1/http', 'HEALTHY');
    await h.advance(2 * MIN);
    h.result('api/a1/http', 'UNHEALTHY');
    await h.advance(2 * MIN);
    expect(h.alerts()).toHaveLength(1);
    expect(h.alerts()[0]!.id).toBe(first.id);
    expect(first.id).toBe(alertId('down', { rule: 'down', service: 'api', instance: 'a1', check: 'http', check_kind: 'http' }));
    expect(
      h
        .alerts()[0]!
        .timeline.map((e) => e.type)
        .filter((t) => ['pending', 'firing', 'resolved'].includes(t)),
    ).toEqual(['pending', 'firing', 'resolved', 'pending', 'firing']);
  });
});

describe('reason condition', () => {
  it('reason: tls with days_left < 14 fires on a certificate with 9 days left, not 20', async () => {
    h = await harness(
      section([{ name: 'cert', when: { kind: 'reason', reason: 'tls', metric: { name: 'days_left', op: '<', value: 14 } }, level: 'warning' }]),
    );
    h.result('db/d1/tls', 'DEGRADED', { reason: 'cert_expiring', metrics: { days_left: 20 } });
    await h.advance(SEC);
    expect(h.sent).toHaveLength(0);
    h.result('db/d1/tls', 'DEGRADED', { reason: 'cert_expiring', metrics: { days_left: 9 } });
    await h.advance(SEC);
    expect(h.lines()).toEqual(['firing db/d1']);
    expect(h.alerts()[0]!.value).toBe(9);
    h.result('db/d1/tls', 'HEALTHY', { reason: 'ok', metrics: { days_left: 300 } });
    await h.advance(2 * MIN);
    expect(h.lines()).toEqual(['firing db/d1', 'resolved db/d1']);
  });
});

describe('threshold condition', () => {
  it('p95 latency over a window: fires once the window p95 passes the threshold, resolves when it falls', async () => {
    h = await harness(
      section([{ name: 'slow', when: { kind: 'threshold', series: 'latency_ms', agg: 'p95', window: '1m', op: '>', value: 300, min_samples: 5 } }]),
    );
    for (let i = 0; i < 10; i++) {
      h.result('api/a1/http', 'HEALTHY', { durationMs: 100 });
      await h.advance(5 * SEC);
    }
    expect(h.sent).toHaveLength(0);
    for (let i = 0; i < 4; i++) {
      h.result('api/a1/http', 'HEALTHY', { durationMs: 900 });
      await h.advance(5 * SEC);
    }
    // 12 samples in the window, 4 slow: p95 is slow.
    expect(h.lines()).toEqual(['firing api/a1']);
    expect(h.alerts()[0]!.value).toBe(900);
    for (let i = 0; i < 14; i++) {
      h.result('api/a1/http', 'HEALTHY', { durationMs: 100 });
      await h.advance(5 * SEC);
    }
    expect(h.lines()).toEqual(['firing api/a1', 'resolved api/a1']);
  });

  it('failure rate (avg of the failure series) and a sample series fed through the port (score)', async () => {
    h = await harness(
      section([
        { name: 'failing', when: { kind: 'threshold', series: 'failure', agg: 'avg', window: '1m', op: '>=', value: 0.5, min_samples: 4 } },
        { name: 'low-score', when: { kind: 'threshold', series: 'score', agg: 'last', window: '1m', op: '<', value: 50 } },
      ]),
    );
    for (const s of ['HEALTHY', 'UNHEALTHY', 'HEALTHY', 'UNHEALTHY'] as const) h.result('api/a1/http', s);
    h.alerting.input.sample({ series: 'score', subject: { service: 'api', instance: 'a1' }, value: 30, at: h.clock.now() });
    await h.advance(SEC);
    expect(h.alerts('failing')[0]!.state).toBe('firing');
    expect(h.alerts('low-score')[0]!.labels).toEqual({ rule: 'low-score', service: 'api', instance: 'a1' });
  });
});
