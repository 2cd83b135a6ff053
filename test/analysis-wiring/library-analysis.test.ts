import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.js';
import { createHealthmesh } from '../../src/library.js';
import { MIN, T } from './fixture.js';

describe('the library runs the same analysis as the daemon', () => {
  it('tracks an embedded check and answers for it, saying why there is no SLO', async () => {
    const clock = new FakeClock(T);
    const hm = createHealthmesh({ clock });
    const id = hm.addCheck('db', async () => ({ status: 'pass' }), { interval: '10s' });
    expect(hm.analysis).toBeNull();
    await hm.start();
    await clock.advanceAsync(3 * MIN + 2_000, 500);
    const answer = (await hm.analysis!.check(id))!;
    expect(answer.details.find((d) => d.series === 'failure')).toMatchObject({ last: 0 });
    expect(answer.details.find((d) => d.series === 'latency_ms')!.points).toBe(3);
    const [service] = id.split('/');
    expect((await hm.analysis!.service(service!))!.reasons.slo).toMatch(/no slo: in services\./);
    await hm.shutdown();
  });
});
