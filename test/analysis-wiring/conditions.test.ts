import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { anomalySample, DIRECTION_CODE, forecastSample, trendSample } from '../../src/alerts/conditions/analysis-samples.js';
import { FakeClock } from '../../src/core/clock.js';
import { seeded } from '../../src/core/random.js';
import { harness, MIN, ref, section, type Harness } from '../alerts/harness.js';
import { fixture, HOUR, stored, T, type Fixture } from './fixture.js';

const open: Array<Fixture | Harness> = [];
afterEach(async () => {
  for (const f of open.splice(0)) await f.stop();
});

describe('analysis condition kinds on the fake clock', () => {
  it('trend: fires on the directions asked for, after for:, and resolves when the direction changes', async () => {
    const h = await harness(section([{ name: 'worse', when: { kind: 'trend', series: 'latency_ms', direction: ['degrading', 'volatile'] }, for: '2m' }]));
    open.push(h);
    const sample = (direction: keyof typeof DIRECTION_CODE) =>
      h.alerting.input.sample({ series: trendSample('latency_ms'), subject: ref('api/a1/http'), value: DIRECTION_CODE[direction], at: h.clock.now() });
    sample('stable');
    expect(h.alerts('worse')).toEqual([]);
    sample('degrading');
    expect(h.alerts('worse')).toEqual([expect.objectContaining({ state: 'pending', summary: 'latency_ms is degrading' })]);
    await h.advance(MIN);
    sample('volatile');
    await h.advance(MIN);
    expect(h.alerts('worse')[0]).toMatchObject({
      state: 'firing',
      labels: { rule: 'worse', service: 'api', instance: 'a1', check: 'http', check_kind: 'http' },
    });
    sample('improving');
    await h.advance(1_000);
    expect(h.alerts('worse')[0]).toMatchObject({ state: 'resolved' });
    await h.advance(MIN); // the group's interval
    expect(h.lines()).toEqual(['firing api/a1', 'resolved api/a1']);
  });

  it('forecast: holds when the crossing is due within `within`, not when it is later or refused', async () => {
    const h = await harness(section([{ name: 'disk', when: { kind: 'forecast', series: 'disk_percent', threshold: 95, within: '6h', edge: 'earliest' } }]));
    open.push(h);
    const name = forecastSample('disk_percent', 95, 'earliest');
    const sample = (ms: number) => h.alerting.input.sample({ series: name, subject: ref('db/d1/system'), value: ms, at: h.clock.now() });
    sample(Number.POSITIVE_INFINITY); // refused, or no crossing within reach
    sample(7 * HOUR);
    expect(h.alerts('disk')).toEqual([]);
    sample(5 * HOUR);
    expect(h.alerts('disk')).toEqual([expect.objectContaining({ state: 'firing', value: 5 * 3600, summary: 'disk_percent forecast to cross in 5h 95' })]);
    sample(0);
    expect(h.alerts('disk')[0]!.summary).toBe('disk_percent already past 95');
    sample(Number.POSITIVE_INFINITY);
    await h.advance(1_000);
    expect(h.alerts('disk')[0]).toMatchObject({ state: 'resolved' });
  });

  it('anomaly: compares the newest minute with min_score; a score rule reads the level it is scoped to', async () => {
    const h = await harness(
      section([
        { name: 'odd-latency', when: { kind: 'anomaly', series: 'latency_ms' } },
        { name: 'odd-instance', scope: 'instance', when: { kind: 'anomaly', series: 'score', min_score: 0.5 } },
      ]),
    );
    open.push(h);
    const at = h.clock.now();
    h.alerting.input.sample({ series: anomalySample('latency_ms'), subject: ref('api/a1/http'), value: 0.59, at });
    expect(h.alerts('odd-latency')).toEqual([]);
    h.alerting.input.sample({ series: anomalySample('latency_ms'), subject: ref('api/a1/http'), value: 0.6, at });
    expect(h.alerts('odd-latency')).toEqual([expect.objectContaining({ state: 'firing' })]);
    // A service's score sample does not reach an instance-scoped rule; an instance's does.
    h.alerting.input.sample({ series: anomalySample('score'), subject: { service: 'api' }, value: 0.9, at });
    expect(h.alerts('odd-instance')).toEqual([]);
    h.alerting.input.sample({ series: anomalySample('score'), subject: { service: 'api', instance: 'a1' }, value: 0.9, at });
    expect(h.alerts('odd-instance')).toEqual([expect.objectContaining({ state: 'firing', labels: { rule: 'odd-instance', service: 'api', instance: 'a1' } })]);
  });

  it('burn_rate: a named window with its own factor', async () => {
    const h = await harness(section([{ name: 'fast', when: { kind: 'burn_rate', window: '1h/5m', factor: 10 } }]));
    open.push(h);
    const sample = (v: number) => h.alerting.input.sample({ series: 'slo.burn_rate:1h/5m', subject: { service: 'api' }, value: v, at: h.clock.now() });
    sample(10);
    expect(h.alerts('fast')).toEqual([]);
    sample(10.5);
    expect(h.alerts('fast')).toEqual([expect.objectContaining({ state: 'firing', summary: 'burn rate 10.50× over 1h/5m > 10×' })]);
  });

  it('the daemon analysis publishes what the rules read: a rising latency trends, is forecast, and a spike is an anomaly', async () => {
    const clock = new FakeClock(T);
    const alerts = section([
      { name: 'trend', when: { kind: 'trend', series: 'latency_ms' } },
      { name: 'soon-slow', when: { kind: 'forecast', series: 'latency_ms', threshold: 31, within: '1h' } },
      { name: 'spike', when: { kind: 'anomaly', series: 'latency_ms' } },
      { name: 'never', match: { service: 'api2' }, when: { kind: 'trend', series: 'latency_ms' } },
    ]);
    const h = await harness(alerts, { clock });
    open.push(h);
    // 3 hours of stored minutes, latency 10 → 28 ms, Gaussian noise of 1 ms.
    const random = seeded(17);
    const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    const history = [];
    for (let m = 0; m < 180; m++)
      for (let k = 0; k < 6; k++) history.push(stored('api/a1/tcp', T - 3 * HOUR + m * MIN + k * 10_000, 'HEALTHY', 10 + m * 0.1 + gauss()));
    const f = await fixture({
      yaml: `
defaults: { interval: 10s, rise: 1, fall: 1, jitter: 0 }
services:
  api:
    instances: [{ id: a1, address: "127.0.0.1:1" }]
    checks: [{ kind: tcp }]
  api2:
    instances: []
${stringify({ alerts })}`,
      history,
      alerts: h.alerting.input,
      clock,
    });
    open.push(f);
    f.answers.set('a1', { status: 'HEALTHY', latencyMs: 28 });
    await f.step(2 * MIN + 2_000);
    expect(h.alerts('trend')).toEqual([
      expect.objectContaining({ state: 'firing', summary: 'latency_ms is degrading', labels: expect.objectContaining({ check: 'tcp' }) }),
    ]);
    // About 27 ms rising 0.085 ms a minute (the last hour of minutes) reaches 31 ms in about 47 minutes: due within 1h.
    // (40 ms would be 150 minutes away, past the forecast's reach: the 64 minutes it learned from.)
    expect(h.alerts('soon-slow')).toEqual([expect.objectContaining({ state: 'firing' })]);
    expect(h.alerts('spike')).toEqual([]);
    expect(h.alerts('never')).toEqual([]);

    f.answers.set('a1', { status: 'HEALTHY', latencyMs: 400 });
    await f.step(MIN);
    expect(h.alerts('spike')).toEqual([
      expect.objectContaining({ state: 'firing', summary: expect.stringMatching(/^latency_ms anomaly score 1\.00 ≥ 0\.6$/) }),
    ]);
  });
});
