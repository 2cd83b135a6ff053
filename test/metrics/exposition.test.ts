import { afterEach, describe, expect, it } from 'vitest';
import type { CheckRunner, CheckSpec } from '../../src/core/check.js';
import { FakeClock } from '../../src/core/clock.js';
import { seeded } from '../../src/core/random.js';
import type { ProbeOutcome } from '../../src/core/result.js';
import { Engine } from '../../src/engine.js';
import type { InstanceInfo } from '../../src/metrics/instance-labels.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { FAMILIES } from '../../src/metrics/names.js';
import { StatusRollup } from '../../src/status/rollup.js';
import { parseExposition, promtoolCheckMetrics, samplesOf } from '../helpers/prometheus.js';
import { fakeSpec } from '../helpers/spec.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** Checks in every state, on instances whose metadata holds characters the text format must escape. */
async function mesh(perCheck: 'full' | 'status') {
  const clock = new FakeClock(0);
  const outcomes = new Map<string, ProbeOutcome>();
  const runnerFor = (spec: CheckSpec): CheckRunner => ({
    run: async () => outcomes.get(spec.id) ?? { status: 'HEALTHY', reason: 'ok', output: 'ok' },
  });
  const engine = new Engine({ clock, random: seeded(1), concurrency: 50, spreadFirstRun: false, runnerFor });
  const rollup = new StatusRollup(() => 1);
  rollup.attach(engine.bus);
  const infos = new Map<string, InstanceInfo>();
  const metrics = createMetrics({
    engine,
    rollup,
    perCheck,
    processMetrics: true,
    labelsFrom: ['team'],
    instanceInfo: (service, instance) => infos.get(`${service}/${instance}`),
  });
  cleanups.push(
    () => engine.stop(),
    () => metrics.detach(),
  );
  const odd = ['plain', 'quote " inside', 'back\\slash', 'new\nline', 'ünïcödé'];
  for (let i = 0; i < 20; i++) {
    const service = `svc${i % 3}`;
    const spec = fakeSpec(`${service}/i${i}/c${i % 2}`, { service, instance: `i${i}`, name: `c${i % 2}` });
    infos.set(`${spec.service}/${spec.instance}`, { metadata: { team: odd[i % odd.length]! }, tags: [] });
    if (i % 4 === 1) outcomes.set(spec.id, { status: 'UNHEALTHY', reason: 'connect_refused', output: 'no' });
    if (i % 4 === 2) outcomes.set(spec.id, { status: 'DEGRADED', reason: 'slow', output: 'slow' });
    engine.add(spec, 0);
  }
  await clock.advanceAsync(3000, 100);
  return { engine, metrics, infos, clock };
}

describe('the exposition written for the computed families', () => {
  for (const perCheck of ['full', 'status'] as const) {
    it(`is byte for byte what prom-client writes (per_check: ${perCheck}), scrape after scrape`, async () => {
      const { metrics, infos, clock } = await mesh(perCheck);
      const ours = await metrics.render();
      const theirs = await metrics.registry.metrics();
      // Process metrics move between the two reads; every other line must match.
      const stable = (text: string) => text.split('\n').filter((l) => !/^(process_|nodejs_)/.test(l));
      expect(stable(ours)).toEqual(stable(theirs));
      expect(ours).toContain('team="quote \\" inside"');
      expect(ours).toContain('team="back\\\\slash"');
      expect(ours).toContain('team="new\\nline"');
      expect(promtoolCheckMetrics(ours)).toMatchObject({ code: 0 });

      // A metadata change shows at the next scrape: kept label text is not reused for it.
      infos.set('svc0/i0', { metadata: { team: 'moved' }, tags: [] });
      await clock.advanceAsync(1000, 100);
      const next = await metrics.render();
      expect(stable(next)).toEqual(stable(await metrics.registry.metrics()));
      const status = samplesOf(parseExposition(next), FAMILIES.instanceStatus.name, { service_instance: 'i0' });
      expect(status.map((s) => s.labels.team)).toContain('moved');
    });
  }

  it('drops the series of a removed check and shows a new one', async () => {
    const { engine, metrics, clock } = await mesh('status');
    const before = parseExposition(await metrics.render());
    expect(samplesOf(before, FAMILIES.checkStatus.name, { service_instance: 'i3' })).toHaveLength(1);
    await engine.remove('svc0/i3/c1');
    engine.add(fakeSpec('svc9/new/c0', { service: 'svc9', instance: 'new', name: 'c0' }), 0);
    await clock.advanceAsync(1000, 100);
    const after = parseExposition(await metrics.render());
    expect(samplesOf(after, FAMILIES.checkStatus.name, { service_instance: 'i3' })).toHaveLength(0);
    expect(samplesOf(after, FAMILIES.instanceScore.name, { service_instance: 'i3' })).toHaveLength(0);
    expect(samplesOf(after, FAMILIES.checkStatus.name, { service: 'svc9', status: 'HEALTHY' })).toHaveLength(1);
  });
});
