import { describe, expect, it } from 'vitest';
import { MemoryAlertStore } from '../../src/alerts/memory-store.js';
import { FakeClock } from '../../src/core/clock.js';
import { harness, HOUR, MIN, SEC, section, T0 } from './harness.js';

describe('restart of the alerting module on the same store', () => {
  it('firing alerts come back firing: no second firing notice; reminders keep their schedule; the resolve is sent', async () => {
    const store = new MemoryAlertStore();
    const clock = new FakeClock(T0);
    const rules = section([{ name: 'down', when: { kind: 'status' }, repeat: '1h', max_reminders: 5 }]);
    const first = await harness(rules, { store, clock });
    first.result('api/a1/http', 'UNHEALTHY');
    await first.advance(10 * MIN, MIN);
    expect(first.lines()).toEqual(['firing api/a1']);
    await first.stop();

    const second = await harness(rules, { store, clock });
    expect(second.alerts().map((a) => [a.state, a.notified])).toEqual([['firing', true]]);
    second.result('api/a1/http', 'UNHEALTHY'); // still down: nothing new to say
    await second.advance(40 * MIN, MIN);
    expect(second.lines()).toEqual([]);
    await second.advance(20 * MIN, MIN); // T0 + 1 h: the first reminder, on the schedule from before the restart
    expect(
      second.lines(),
      second
        .alerts()[0]!
        .timeline.map((e) => `${(e.at - T0) / 60000} ${e.type} ${e.detail ?? ''}`)
        .join('\n'),
    ).toEqual(['reminder api/a1']);
    expect(second.sent[0]!.at).toBe(T0 + HOUR);
    second.result('api/a1/http', 'HEALTHY');
    await second.advance(2 * MIN, SEC * 10);
    expect(second.lines()).toEqual(['reminder api/a1', 'resolved api/a1']);
    const stored = (await store.loadAlerts({ states: ['resolved'] }))[0]!;
    expect(stored.timeline.map((e) => e.type)).toEqual(expect.arrayContaining(['firing', 'delivered', 'reminder', 'resolved']));
    await second.stop();
  });

  it('silences made over the API survive the restart', async () => {
    const store = new MemoryAlertStore();
    const clock = new FakeClock(T0);
    const rules = section([{ name: 'down', when: { kind: 'status' } }]);
    const first = await harness(rules, { store, clock });
    await first.alerting.api.createSilence({ matchers: { service: ['api'] }, end: T0 + HOUR });
    await first.stop();
    const second = await harness(rules, { store, clock });
    second.result('api/a1/http', 'UNHEALTHY');
    await second.advance(MIN);
    expect(second.sent).toHaveLength(0);
    expect((await second.alerting.api.listSilences()).length).toBe(1);
    await second.stop();
  });
});
