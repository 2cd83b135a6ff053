import { afterEach, describe, expect, it } from 'vitest';
import { apiHarness, type ApiHarness } from '../helpers/api.js';

/** The API and the registry take time from the injected clock, never from the wall clock. */

const harnesses: ApiHarness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.close();
});

describe('time in the API', () => {
  it('serves /health from its cache until a second has passed on the injected clock', async () => {
    const h = await apiHarness(`
defaults: { interval: 500ms, jitter: 0, rise: 1, fall: 3 }
services:
  api:
    instances: [{ id: a1, address: "10.0.0.1:80" }]
    checks: [{ kind: tcp }]
`);
    harnesses.push(h);
    const score = async () => (await h.app.inject('/health')).json().checks['api:status'][0].observedValue as number;
    expect(await score()).toBe(100);
    // Failures below `fall` lower the score without a transition, so no index moves: only age ends the cache.
    h.outcomes.a1 = { status: 'UNHEALTHY', reason: 'timeout', output: 't' };
    await h.clock.advanceAsync(500, 50);
    expect(h.rollup.serviceScore('api')).toBeLessThan(100);
    expect(await score()).toBe(100);
    await h.clock.advanceAsync(500, 50);
    expect(await score()).toBe(h.rollup.serviceScore('api'));
    expect(await score()).toBeLessThan(100);
  });
});
