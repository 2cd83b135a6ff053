import { afterEach, describe, expect, it } from 'vitest';
import { DependencyGraph, rootCauseSentence } from '../../src/alerts/suppression.js';
import { harness, MIN, SEC, type Harness, section } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const serviceDown = { name: 'service-down', scope: 'service', when: { kind: 'status', is: 'UNHEALTHY' }, level: 'critical' };
const grouped = (wait = '30s') => section([serviceDown], { defaults: { group_by: ['rule'], group_wait: wait, group_interval: '5m' } });

describe('DependencyGraph.roots', () => {
  const deps: Record<string, string[]> = { app: ['api'], api: ['db'], b: ['a'], c: ['a'], d: ['b', 'c'], x: ['y', 'z'] };
  const g = new DependencyGraph((s) => deps[s] ?? []);
  it.each([
    ['chain app→api→db, all down: db', 'app', ['app', 'api', 'db'], ['db']],
    ['chain, only api down: api', 'app', ['app', 'api'], ['api']],
    ['chain, nothing above down: none', 'app', ['app'], []],
    ['diamond d→b,c→a, all down: a once', 'd', ['a', 'b', 'c', 'd'], ['a']],
    ['diamond, b and c down (a fine): both', 'd', ['b', 'c', 'd'], ['b', 'c']],
    ['two independent roots', 'x', ['x', 'y', 'z'], ['y', 'z']],
  ])('%s', (_name, service, alerting, roots) => {
    expect(g.roots(service, (s) => alerting.includes(s))).toEqual(roots);
  });

  it('survives a cycle without looping', () => {
    const cyc = new DependencyGraph((s) => (s === 'p' ? ['q'] : s === 'q' ? ['p'] : []));
    expect(cyc.roots('p', () => true)).toEqual([]);
  });

  it.each([
    [['orders'], 'orders is down because postgres is down'],
    [['payments', 'orders'], 'orders and payments are down because postgres is down'],
    [['orders', 'payments', ...Array.from({ length: 12 }, (_, i) => `svc${i + 10}`)], 'orders, payments and 12 more are down because postgres is down'],
    [['orders', 'orders'], 'orders is down because postgres is down'],
  ])('the sentence for %j', (dependents, text) => {
    expect(rootCauseSentence('postgres', dependents)).toBe(text);
  });
});

describe('root-cause suppression in notifications', () => {
  it('chain: app → api → db all down → one notification about db with app and api folded in', async () => {
    h = await harness(grouped(), { dependsOn: { app: ['api'], api: ['db'] } });
    h.serviceStatus('app', 'UNHEALTHY'); // the dependents may notice first
    await h.advance(5 * SEC);
    h.serviceStatus('api', 'UNHEALTHY');
    h.serviceStatus('db', 'UNHEALTHY');
    await h.advance(30 * SEC);
    expect(h.sent).toHaveLength(1);
    const n = h.sent[0]!.notification;
    expect(n.items.map((i) => i.labels.service)).toEqual(['db']);
    expect(n.items[0]!.dependents.map((d) => d.service).sort()).toEqual(['api', 'app']);
    expect(n.title).toBe('api and app are down because db is down');
    const app = h.alerts().find((a) => a.labels.service === 'app')!;
    expect(app.foldedInto).toBe(n.items[0]!.alertId);
    expect(app.timeline.map((e) => e.type)).toContain('suppressed');
  });

  it('diamond: d → b, c → a: d is folded into a once, not twice', async () => {
    h = await harness(grouped(), { dependsOn: { b: ['a'], c: ['a'], d: ['b', 'c'] } });
    for (const s of ['d', 'c', 'b', 'a']) h.serviceStatus(s, 'UNHEALTHY');
    await h.advance(30 * SEC);
    expect(h.sent).toHaveLength(1);
    const item = h.sent[0]!.notification.items[0]!;
    expect(item.labels.service).toBe('a');
    expect(item.dependents.map((d) => d.service).sort()).toEqual(['b', 'c', 'd']);
    expect(h.sent[0]!.notification.counts).toEqual({ firing: 1, resolved: 0, dependents: 3 });
  });

  it('a dependent that stays down after the root clears is sent alone; one that recovers with it is never sent', async () => {
    h = await harness(grouped('10s'), { dependsOn: { orders: ['db'], payments: ['db'] } });
    for (const s of ['db', 'orders', 'payments']) h.serviceStatus(s, 'UNHEALTHY');
    await h.advance(10 * SEC);
    expect(h.lines()).toEqual(['firing db']);
    h.serviceStatus('db', 'HEALTHY');
    h.serviceStatus('payments', 'HEALTHY');
    await h.advance(6 * MIN);
    expect(h.lines().sort()).toEqual(['firing db', 'firing orders', 'resolved db']);
    const orders = h.alerts().find((a) => a.labels.service === 'orders')!;
    expect(orders.timeline.map((e) => e.type)).toEqual(expect.arrayContaining(['suppressed', 'unsuppressed', 'delivered']));
  });

  it('suppression changes notifications only: the dependent alerts still fire and are listed', async () => {
    h = await harness(grouped(), { dependsOn: { orders: ['db'] } });
    h.serviceStatus('db', 'UNHEALTHY');
    h.serviceStatus('orders', 'UNHEALTHY');
    await h.advance(30 * SEC);
    const page = await h.alerting.api.listAlerts({ state: ['firing'], limit: 10 });
    expect(page.items.map((a) => a.labels.service).sort()).toEqual(['db', 'orders']);
  });
});

describe('drill: 50 services depending on one database', () => {
  it('the database goes down → exactly one grouped root-cause notification within group_wait + one interval, not 51', async () => {
    const services = Array.from({ length: 50 }, (_, i) => `svc${String(i).padStart(2, '0')}`);
    const dependsOn = Object.fromEntries(services.map((s) => [s, ['postgres']]));
    h = await harness(
      section([{ name: 'instance-down', scope: 'instance', when: { kind: 'status', is: 'UNHEALTHY' }, level: 'critical' }], {
        defaults: { group_by: ['rule'], group_wait: '30s', group_interval: '5m' },
      }),
      { dependsOn },
    );
    const t0 = h.clock.now();
    // The database stops: its instance goes first, the dependents' instances follow over the next 20 s as their checks notice.
    h.instanceStatus('postgres/pg1', 'UNHEALTHY');
    for (let i = 0; i < services.length; i++) {
      if (i % 5 === 0) await h.advance(2 * SEC);
      h.instanceStatus(`${services[i]}/i1`, 'UNHEALTHY');
    }
    await h.advance(30 * SEC + 5 * MIN - (h.clock.now() - t0));
    expect(h.sent).toHaveLength(1);
    const n = h.sent[0]!.notification;
    expect(n.items).toHaveLength(1);
    expect(n.items[0]!.labels.service).toBe('postgres');
    expect(n.items[0]!.dependents).toHaveLength(50);
    expect(n.title).toBe('svc00, svc01 and 48 more are down because postgres is down');
    expect(h.sent[0]!.at - t0).toBeLessThanOrEqual(30 * SEC + 5 * MIN);
    expect(h.alerts().filter((a) => a.state === 'firing')).toHaveLength(51);
  });
});
