import { afterEach, describe, expect, it } from 'vitest';
import { realClock } from '../../src/core/clock.js';
import { harness, HOUR, MIN, SEC, section, type Harness } from './harness.js';
import { until } from './receivers.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const remediations = (h: Harness) =>
  h
    .alerts()[0]!
    .timeline.filter((e) => e.type === 'remediation')
    .map((e) => e.detail ?? '');

describe('remediation (exec action)', () => {
  it('runs the action when the alert fires, keeps its output, and not again within min_interval', async () => {
    h = await harness(
      section([
        {
          name: 'down',
          when: { kind: 'status' },
          repeat: '5m',
          exec: { command: ['/bin/sh', '-c', 'echo restarting {{service}}/{{instance}} at {{level}}; exit 3'], timeout: '10s', min_interval: '1h' },
        },
      ]),
    );
    h.result('api/a1/http', 'UNHEALTHY');
    await h.advance(SEC);
    await h.alerting.remediation.idle();
    await until(() => remediations(h!).length >= 2, 10_000, 'the action to end');
    expect(remediations(h)[0]).toBe('started sh');
    expect(remediations(h)[1]).toMatch(/^sh failed \(exit 3, \d+ ms\): restarting api\/a1 at warning$/);
    await h.advance(30 * MIN, MIN); // reminders at 5, 10, … min: skipped, min_interval 1 h
    expect(
      remediations(h)
        .slice(2)
        .every((d) => d.startsWith('skipped: ran')),
    ).toBe(true);
    expect(remediations(h).length).toBeGreaterThan(3);
    await h.advance(HOUR, 5 * MIN); // past min_interval: runs again on a reminder
    await h.alerting.remediation.idle();
    expect(remediations(h).filter((d) => d === 'started sh')).toHaveLength(2);
  });

  it('kills an action that outlives its timeout (real clock) and says so', async () => {
    h = await harness(section([{ name: 'down', when: { kind: 'status' }, exec: { command: ['/bin/sleep', '30'], timeout: '200ms' } }]), { clock: realClock });
    h.result('api/a1/http', 'UNHEALTHY');
    await until(() => remediations(h!).length >= 2, 10_000, 'the action to be killed');
    expect(remediations(h)[1]).toBe('sleep timed out after 200 ms (killed)');
  });

  it('records a program that cannot start', async () => {
    h = await harness(section([{ name: 'down', when: { kind: 'status' }, exec: { command: ['/nonexistent/fix-it'] } }]));
    h.result('api/a1/http', 'UNHEALTHY');
    await h.advance(SEC);
    await until(() => remediations(h!).length >= 2, 10_000, 'the spawn failure');
    expect(remediations(h)[1]).toBe('fix-it could not start: ENOENT');
  });
});
