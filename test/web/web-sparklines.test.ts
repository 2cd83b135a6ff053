import { describe, expect, it } from 'vitest';
import { ServiceIncidents } from '../../src/server/web-incidents.js';
import { SPARK_MINUTES, Sparklines } from '../../src/server/web-sparklines.js';

const MIN = 60_000;
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % MIN);

describe('Sparklines', () => {
  it('keeps the lowest score and worst status of each minute, oldest first, the current minute last', () => {
    const s = new Sparklines();
    s.observe('api', 100, 'HEALTHY', T0);
    s.observe('api', 40, 'UNHEALTHY', T0 + 10_000);
    s.observe('api', 90, 'DEGRADED', T0 + 20_000);
    s.observe('api', 95, 'HEALTHY', T0 + MIN);
    const scores = s.scores('api', T0 + MIN + 5_000);
    expect(scores).toHaveLength(SPARK_MINUTES);
    expect(scores.slice(-2)).toEqual([40, 95]);
    expect(scores.slice(0, -2).every((v) => v === null)).toBe(true);
    expect(s.statuses('api', T0 + MIN).slice(-2)).toEqual(['UNHEALTHY', 'HEALTHY']);
  });

  it('forgets minutes older than an hour when their slot is reused, and never reports them', () => {
    const s = new Sparklines();
    s.observe('api', 10, 'UNHEALTHY', T0);
    // An hour later the same slot holds a new minute: the old low must not leak into it.
    s.observe('api', 100, 'HEALTHY', T0 + SPARK_MINUTES * MIN);
    expect(s.scores('api', T0 + SPARK_MINUTES * MIN).filter((v) => v !== null)).toEqual([100]);
    // More than an hour after the last data: nothing is known.
    expect(s.scores('api', T0 + 90 * MIN).filter((v) => v !== null)).toEqual([100]);
    expect(s.scores('api', T0 + 121 * MIN).every((v) => v === null)).toBe(true);
  });

  it('averages latency over the last minutes only', () => {
    const s = new Sparklines();
    s.observeLatency('api', 500, T0);
    s.observeLatency('api', 10, T0 + 10 * MIN);
    s.observeLatency('api', 30, T0 + 10 * MIN + 1);
    expect(s.latency('api', T0 + 10 * MIN, 5)).toEqual({ avgMs: 20, maxMs: 30, count: 2 });
    expect(s.latency('api', T0 + 30 * MIN, 5)).toBeNull();
    expect(s.latency('nope', T0, 5)).toBeNull();
  });
});

describe('ServiceIncidents', () => {
  it('opens an incident on UNHEALTHY and closes it on HEALTHY or DEGRADED, not on UNKNOWN', () => {
    const i = new ServiceIncidents();
    expect(i.record('db', 'HEALTHY', 'start', 0)).toBe(false); // the first status is not a change
    expect(i.record('db', 'UNHEALTHY', 'db/d1/tcp', 1000)).toBe(true);
    expect(i.record('db', 'UNKNOWN', 'db/d1/tcp', 2000)).toBe(true);
    expect(i.of(['db'], 10)).toEqual([{ service: 'db', start: 1000, end: null, cause: 'db/d1/tcp' }]);
    i.record('db', 'DEGRADED', 'db/d1/tcp', 5000);
    i.record('db', 'UNHEALTHY', 'db/d2/tcp', 7000);
    expect(i.of(['db'], 10)).toEqual([
      { service: 'db', start: 7000, end: null, cause: 'db/d2/tcp' },
      { service: 'db', start: 1000, end: 5000, cause: 'db/d1/tcp' },
    ]);
    expect(i.record('db', 'UNHEALTHY', 'again', 8000)).toBe(false);
  });

  it('answers only for the services asked, newest first, at most the limit, and keeps 50 a service', () => {
    const i = new ServiceIncidents();
    for (let n = 0; n < 60; n++) {
      i.record('a', 'UNHEALTHY', 'x', n * 10);
      i.record('a', 'HEALTHY', 'x', n * 10 + 5);
    }
    i.record('b', 'UNHEALTHY', 'y', 1);
    expect(i.of(['b'], 10).map((x) => x.service)).toEqual(['b']);
    expect(i.of(['a'], 100)).toHaveLength(50);
    expect(i.of(['a', 'b'], 3).map((x) => x.start)).toEqual([590, 580, 570]);
  });
});
