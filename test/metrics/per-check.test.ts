import { afterEach, describe, expect, it } from 'vitest';
import type { CheckRunner, CheckSpec } from '../../src/core/check.js';
import { FakeClock } from '../../src/core/clock.js';
import { seeded } from '../../src/core/random.js';
import type { ProbeOutcome } from '../../src/core/result.js';
import { Engine } from '../../src/engine.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { FAMILIES } from '../../src/metrics/names.js';
import { StatusRollup } from '../../src/status/rollup.js';
import type { PerCheckMode } from '../../src/config/metrics.js';
import { metricsSchema } from '../../src/config/metrics.js';
import { parseExposition, samplesOf } from '../helpers/prometheus.js';
import { fakeSpec } from '../helpers/spec.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** Two checks on two instances of one service, one failing, run once; the scrape with `perCheck`. */
async function scrapeWith(perCheck: PerCheckMode) {
  const clock = new FakeClock(0);
  const failing: ProbeOutcome = { status: 'UNHEALTHY', reason: 'connect_refused', output: 'refused' };
  const runnerFor = (spec: CheckSpec): CheckRunner => ({
    run: () => Promise.resolve(spec.instance === 'a2' ? failing : { status: 'HEALTHY', reason: 'ok', output: 'ok' }),
  });
  const engine = new Engine({ clock, random: seeded(1), concurrency: 10, spreadFirstRun: false, runnerFor });
  const rollup = new StatusRollup(() => 1);
  rollup.attach(engine.bus);
  const metrics = createMetrics({ engine, rollup, processMetrics: false, perCheck });
  cleanups.push(
    () => engine.stop(),
    () => metrics.detach(),
  );
  for (const instance of ['a1', 'a2']) engine.add({ ...fakeSpec(`api/${instance}/tcp`), service: 'api', instance, name: 'tcp', kind: 'tcp' }, 0);
  await clock.advanceAsync(10, 10);
  return parseExposition(await metrics.render());
}

describe('metrics.per_check', () => {
  it('full: four status series per check and per instance, and flapping for each check', async () => {
    const s = await scrapeWith('full');
    expect(samplesOf(s, FAMILIES.checkStatus.name)).toHaveLength(8);
    expect(samplesOf(s, FAMILIES.instanceStatus.name)).toHaveLength(8);
    expect(samplesOf(s, FAMILIES.checkFlapping.name)).toHaveLength(2);
  });

  it('status: only the current status of each check and instance, valued 1; no flapping series while not flapping', async () => {
    const s = await scrapeWith('status');
    const checks = samplesOf(s, FAMILIES.checkStatus.name);
    expect(checks.map((c) => [c.labels.service_instance, c.labels.status, c.value])).toEqual([
      ['a1', 'HEALTHY', 1],
      ['a2', 'UNHEALTHY', 1],
    ]);
    expect(samplesOf(s, FAMILIES.instanceStatus.name)).toHaveLength(2);
    expect(samplesOf(s, FAMILIES.instanceScore.name)).toHaveLength(2);
    expect(samplesOf(s, FAMILIES.checkFlapping.name)).toHaveLength(0);
  });

  it('none: no series per check or instance, the per-service families stay', async () => {
    const s = await scrapeWith('none');
    expect(samplesOf(s, FAMILIES.checkStatus.name)).toHaveLength(0);
    expect(samplesOf(s, FAMILIES.instanceStatus.name)).toHaveLength(0);
    expect(samplesOf(s, FAMILIES.instanceScore.name)).toHaveLength(0);
    expect(samplesOf(s, FAMILIES.serviceStatus.name)).toHaveLength(4);
    expect(samplesOf(s, FAMILIES.checkRuns.name, { service: 'api' })).toHaveLength(1);
    expect(samplesOf(s, `${FAMILIES.checkDuration.name}_count`, { service: 'api' })).toHaveLength(1);
  });

  it('defaults to status in the config and names the field for a wrong value', () => {
    expect(metricsSchema.parse({}).per_check).toBe('status');
    const bad = metricsSchema.safeParse({ per_check: 'all' });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues[0]?.path)).toBe('["per_check"]');
  });
});
