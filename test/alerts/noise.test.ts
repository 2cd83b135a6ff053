import { afterEach, describe, expect, it } from 'vitest';
import { harness, HOUR, MIN, SEC, T0, type Harness, section } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const down = (extra: Record<string, unknown> = {}) => ({ name: 'down', when: { kind: 'status' }, ...extra });

describe('grouping (group_by, group_wait, group_interval)', () => {
  it('alerts of one group within group_wait go out as one notification with a count and the list', async () => {
    h = await harness(section([down()], { defaults: { group_by: ['rule'], group_wait: '30s', group_interval: '5m' } }));
    h.result('api/a1/http', 'UNHEALTHY');
    await h.advance(10 * SEC);
    h.result('api/a2/http', 'UNHEALTHY');
    h.result('web/w1/http', 'UNHEALTHY');
    await h.advance(19 * SEC);
    expect(h.sent).toHaveLength(0); // 29 s: still waiting
    await h.advance(1 * SEC);
    expect(h.sent).toHaveLength(1);
    const n = h.sent[0]!.notification;
    expect(n.counts).toEqual({ firing: 3, resolved: 0, dependents: 0 });
    expect(n.items.map((i) => i.labels.instance).sort()).toEqual(['a1', 'a2', 'w1']);
    expect(n.title).toContain('3 alerts');
  });

  it('changes after the first flush wait for group_interval, then go out together', async () => {
    h = await harness(section([down()], { defaults: { group_by: ['rule'], group_wait: '30s', group_interval: '5m' } }));
    h.result('api/a1/http', 'UNHEALTHY');
    await h.advance(30 * SEC); // first flush at 30 s
    expect(h.sent).toHaveLength(1);
    h.result('api/a2/http', 'UNHEALTHY');
    await h.advance(1 * MIN);
    h.result('api/a1/http', 'HEALTHY');
    await h.advance(3 * MIN + 59 * SEC); // T0 + 5:29: 4:59 after the first flush
    expect(h.sent).toHaveLength(1);
    await h.advance(1 * SEC); // T0 + 5:30: group_interval after the first flush
    expect(h.sent).toHaveLength(2);
    expect(h.sent[1]!.at - h.sent[0]!.at).toBe(5 * MIN);
    expect(h.sent[1]!.notification.items.map((i) => `${i.event} ${i.labels.instance}`).sort()).toEqual(['firing a2', 'resolved a1']);
  });

  it('group_by service: one notification per service', async () => {
    h = await harness(section([down()], { defaults: { group_by: ['service'], group_wait: '10s' } }));
    h.result('api/a1/http', 'UNHEALTHY');
    h.result('api/a2/http', 'UNHEALTHY');
    h.result('web/w1/http', 'UNHEALTHY');
    await h.advance(10 * SEC);
    expect(h.sent.map((s) => s.notification.groupLabels.service).sort()).toEqual(['api', 'web']);
  });

  it('an alert that fires and clears inside group_wait sends nothing', async () => {
    h = await harness(section([down()], { defaults: { group_wait: '30s' } }));
    h.result('api/a1/http', 'UNHEALTHY');
    await h.advance(10 * SEC);
    h.result('api/a1/http', 'HEALTHY');
    await h.advance(5 * MIN);
    expect(h.sent).toHaveLength(0);
  });
});

describe('cooldown and reminders', () => {
  it('reminds every repeat while firing, at most max_reminders times, then stays quiet', async () => {
    h = await harness(section([down({ repeat: '1h', max_reminders: 2 })]));
    h.result('api/a1/http', 'UNHEALTHY');
    await h.advance(5 * HOUR, MIN);
    expect(h.lines()).toEqual(['firing api/a1', 'reminder api/a1', 'reminder api/a1']);
    expect(h.sent.map((s) => (s.at - T0) / HOUR)).toEqual([0, 1, 2]);
  });

  it('send_resolved: false sends no resolve notice', async () => {
    h = await harness(section([down({ send_resolved: false })]));
    h.result('api/a1/http', 'UNHEALTHY');
    await h.advance(SEC);
    h.result('api/a1/http', 'HEALTHY');
    await h.advance(5 * MIN);
    expect(h.lines()).toEqual(['firing api/a1']);
  });

  it('escalation sends one escalated notice at the new level', async () => {
    h = await harness(section([down({ level: 'warning', escalate: { after: '15m', to: 'critical' } })]));
    h.result('api/a1/http', 'UNHEALTHY');
    await h.advance(30 * MIN, 10 * SEC);
    expect(h.lines()).toEqual(['firing api/a1', 'escalated api/a1']);
    expect(h.sent.map((s) => s.notification.level)).toEqual(['warning', 'critical']);
    expect(h.sent[1]!.at - h.sent[0]!.at).toBe(15 * MIN);
  });
});

describe('flapping', () => {
  it('one flapping notice instead of each transition, and one stable-again notice', async () => {
    h = await harness(section([down()]));
    h.result('api/a1/http', 'UNHEALTHY');
    await h.advance(SEC);
    h.flap('api/a1/http', true);
    for (let i = 0; i < 10; i++) {
      h.result('api/a1/http', i % 2 ? 'UNHEALTHY' : 'HEALTHY');
      await h.advance(2 * MIN);
    }
    h.result('api/a1/http', 'HEALTHY');
    await h.advance(2 * MIN);
    expect(h.lines()).toEqual(['firing api/a1', 'flapping api/a1']);
    h.flap('api/a1/http', false);
    await h.advance(2 * MIN);
    expect(h.lines()).toEqual(['firing api/a1', 'flapping api/a1', 'stable api/a1']);
    expect(h.sent[2]!.notification.items[0]!.state).toBe('resolved');
    const types = h.alerts()[0]!.timeline.map((e) => e.type);
    expect(types.filter((t) => t === 'firing').length).toBeGreaterThan(3); // the alert itself still moved
  });
});

describe('silences and maintenance', () => {
  it('a config silence mutes matching alerts until it ends, then the still-firing alert is sent', async () => {
    h = await harness(section([down()], { silences: [{ matchers: { service: 'api' }, end: new Date(T0 + 10 * MIN).toISOString(), comment: 'deploy' }] }));
    h.result('api/a1/http', 'UNHEALTHY');
    h.result('web/w1/http', 'UNHEALTHY');
    await h.advance(9 * MIN, 10 * SEC);
    expect(h.lines()).toEqual(['firing web/w1']);
    await h.advance(2 * MIN, 10 * SEC);
    expect(h.lines()).toEqual(['firing web/w1', 'firing api/a1']);
    expect(
      h
        .alerts()
        .find((a) => a.labels.service === 'api')!
        .timeline.some((e) => e.type === 'silenced'),
    ).toBe(true);
  });

  it('an alert that fires and resolves inside a silence sends nothing at all', async () => {
    h = await harness(section([down()], { silences: [{ matchers: { service: 'api' }, end: new Date(T0 + HOUR).toISOString() }] }));
    h.result('api/a1/http', 'UNHEALTHY');
    await h.advance(5 * MIN);
    h.result('api/a1/http', 'HEALTHY');
    await h.advance(2 * HOUR, MIN);
    expect(h.sent).toHaveLength(0);
  });

  it('API silences: created, listed, deleted; deleting un-mutes at once', async () => {
    h = await harness(section([down()]));
    const s = await h.alerting.api.createSilence({ matchers: { check: ['http'] }, end: T0 + HOUR, comment: 'x' });
    h.result('api/a1/http', 'UNHEALTHY');
    await h.advance(MIN);
    expect(h.sent).toHaveLength(0);
    expect((await h.alerting.api.listSilences()).map((x) => x.id)).toEqual([s.id]);
    expect(await h.alerting.api.deleteSilence(s.id)).toBe(true);
    await h.advance(SEC);
    expect(h.lines()).toEqual(['firing api/a1']);
    expect(await h.store.listSilences()).toEqual([]);
  });

  it.each([
    // T0 is Monday 00:00 UTC. Window: every day at 02:00 for 1 h.
    ['inside the nightly window (02:30) sends nothing', 2.5 * HOUR, 0],
    ['before it (01:30) is sent', 1.5 * HOUR, 1],
    ['after it (03:00, the end is exclusive) is sent', 3 * HOUR, 1],
    ["inside the next night's window (26:10) sends nothing", 26 * HOUR + 10 * MIN, 0],
  ])('recurring maintenance (cron 0 2 * * *, 1h): an alert %s', async (_name, at, expected) => {
    h = await harness(
      section([down()], { maintenance: [{ name: 'nightly', matchers: { service: 'db' }, cron: '0 2 * * *', duration: '1h', timezone: 'UTC' }] }),
    );
    await h.advance(at, 10 * MIN);
    h.result('db/d1/tcp', 'UNHEALTHY');
    await h.advance(10 * SEC);
    expect(h.sent).toHaveLength(expected);
  });

  it('an alert muted by maintenance is sent when the window ends if it still fires', async () => {
    h = await harness(
      section([down()], { maintenance: [{ name: 'nightly', matchers: { service: 'db' }, cron: '0 2 * * *', duration: '1h', timezone: 'UTC' }] }),
    );
    await h.advance(2 * HOUR + 10 * MIN, 10 * MIN);
    h.result('db/d1/tcp', 'UNHEALTHY');
    await h.advance(49 * MIN, MIN);
    expect(h.sent).toHaveLength(0);
    await h.advance(2 * MIN, 10 * SEC);
    expect(h.lines()).toEqual(['firing db/d1']);
    expect(h.sent[0]!.at).toBe(T0 + 3 * HOUR);
  });
});
