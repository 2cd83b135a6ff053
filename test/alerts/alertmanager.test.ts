import { describe, expect, it } from 'vitest';
import { createNotifier } from '../../src/alerts/notifiers/index.js';
import { toAlertmanager } from '../../src/alerts/notifiers/alertmanager.js';
import type { Notification } from '../../src/alerts/types.js';
import { alertmanagerNotifierSchema } from '../../src/config/alerts.js';
import { realClock } from '../../src/core/clock.js';
import { useCleanups } from '../helpers/cleanups.js';
import { startAlertmanager } from './alertmanager-peer.js';
import { silentLogger } from './harness.js';
import { startReceiver, until } from './receivers.js';
import { notification } from './store-contract.js';

const { track } = useCleanups();

interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  status: { state: string };
  endsAt: string;
}

async function listed(url: string): Promise<AmAlert[]> {
  const res = await fetch(`${url}/api/v2/alerts`);
  return (await res.json()) as AmAlert[];
}

describe('Alertmanager notifier against a real Alertmanager', () => {
  it('Alertmanager lists the alert through its own API with labels and annotations mapped, then shows it resolved', async () => {
    const hooks = track(await startReceiver());
    const am = track(await startAlertmanager(`${hooks.url}/am`));
    const notifier = createNotifier(alertmanagerNotifierSchema.parse({ kind: 'alertmanager', url: am.url }), {
      clock: realClock,
      logger: silentLogger,
      name: 'am',
    });
    const firing = notification('n1');
    const started = new Date(Date.now() - 60_000).toISOString();
    firing.items[0]!.startsAt = started;
    firing.items[0]!.labels = { rule: 'db-down', service: 'db', instance: 'pg-1', 'odd-label': 'x' };
    firing.items[0]!.rule = 'db-down';
    expect(await notifier.send(firing, { idempotencyKey: 'n1:am', signal: AbortSignal.timeout(5000) })).toMatchObject({ ok: true });

    const alerts = await listed(am.url);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.labels).toEqual({ alertname: 'db-down', severity: 'critical', rule: 'db-down', service: 'db', instance: 'pg-1', odd_label: 'x' });
    expect(alerts[0]!.annotations).toMatchObject({ summary: 'db down ü ✓', healthmesh_alert_id: 'a1', root_cause: 'orders is down because db is down' });
    expect(alerts[0]!.status.state).toBe('active');
    await until(() => hooks.requests.some((r) => JSON.parse(r.body).status === 'firing'), 10_000, 'Alertmanager to send the firing alert on');

    const resolved: Notification = {
      ...firing,
      id: 'n2',
      status: 'resolved',
      items: [{ ...firing.items[0]!, event: 'resolved', state: 'resolved', endsAt: new Date().toISOString() }],
    };
    expect(await notifier.send(resolved, { idempotencyKey: 'n2:am', signal: AbortSignal.timeout(5000) })).toMatchObject({ ok: true });
    expect(await listed(am.url)).toEqual([]); // no longer active
    await until(() => hooks.requests.some((r) => JSON.parse(r.body).status === 'resolved'), 10_000, 'Alertmanager to send the resolve on');
    const sentOn = JSON.parse(hooks.requests.find((r) => JSON.parse(r.body).status === 'resolved')!.body);
    expect(sentOn.alerts[0].labels.alertname).toBe('db-down');
    expect(sentOn.alerts[0].status).toBe('resolved');
    await notifier.close?.();
  }, 60_000);

  it('Alertmanager refuses a malformed alert with 400, which is not retried', async () => {
    const hooks = track(await startReceiver());
    const am = track(await startAlertmanager(`${hooks.url}/am`));
    const notifier = createNotifier(alertmanagerNotifierSchema.parse({ kind: 'alertmanager', url: am.url }), {
      clock: realClock,
      logger: silentLogger,
      name: 'am',
    });
    const bad = notification('n1');
    bad.items[0]!.startsAt = 'not a time';
    const outcome = await notifier.send(bad, { idempotencyKey: 'k', signal: AbortSignal.timeout(5000) });
    expect(outcome).toMatchObject({ ok: false, retryable: false });
    expect(toAlertmanager(bad)[0]!.startsAt).toBe('not a time');
    await notifier.close?.();
  }, 60_000);
});
