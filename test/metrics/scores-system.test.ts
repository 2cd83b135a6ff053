import { afterEach, describe, expect, it } from 'vitest';
import type { CheckRunner, CheckSpec } from '../../src/core/check.js';
import { FakeClock } from '../../src/core/clock.js';
import { seeded } from '../../src/core/random.js';
import type { ProbeOutcome } from '../../src/core/result.js';
import { judgeSystem, systemPlan } from '../../src/checks/system.js';
import { Engine } from '../../src/engine.js';
import { createMetrics, type Metrics } from '../../src/metrics/metrics.js';
import { FAMILIES } from '../../src/metrics/names.js';
import { StatusRollup } from '../../src/status/rollup.js';
import { parseExposition, promtoolCheckMetrics, samplesOf, sampleValue, type ParsedSample } from '../helpers/prometheus.js';
import { fakeSpec, systemSpec } from '../helpers/spec.js';

const OK: ProbeOutcome = { status: 'HEALTHY', reason: 'ok', output: 'ok' };
const REFUSED: ProbeOutcome = { status: 'UNHEALTHY', reason: 'connect_refused', output: 'refused' };
const N = FAMILIES;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** A real engine and rollup on a fake clock; runners answer what `outcomes` says for their check id, after `delays` ms. */
function harness() {
  const clock = new FakeClock(0);
  const outcomes = new Map<string, ProbeOutcome>();
  const delays = new Map<string, number>();
  const runnerFor = (spec: CheckSpec): CheckRunner => ({
    run: () => {
      const answer = outcomes.get(spec.id) ?? OK;
      const delay = delays.get(spec.id);
      return delay === undefined ? Promise.resolve(answer) : new Promise((resolve) => clock.setTimeout(() => resolve(answer), delay));
    },
  });
  const engine = new Engine({ clock, random: seeded(1), concurrency: 100, spreadFirstRun: false, runnerFor });
  const rollup = new StatusRollup(() => 1);
  rollup.attach(engine.bus);
  const metrics: Metrics = createMetrics({ engine, rollup, processMetrics: false });
  cleanups.push(
    () => engine.stop(),
    () => metrics.detach(),
  );
  return { clock, engine, rollup, metrics, outcomes, delays, scrape: async (): Promise<ParsedSample[]> => parseExposition(await metrics.render()) };
}

function check(service: string, instance: string, name: string, timing: Partial<CheckSpec> = {}): CheckSpec {
  return { ...fakeSpec(`${service}/${instance}/${name}`, { timeoutMs: 1000, ...timing }), service, instance, name };
}

describe('healthmesh_instance_score and healthmesh_service_score', () => {
  it('expose the rollup’s scores, 0–100, per instance and per service (the mean of its instances)', async () => {
    const h = harness();
    h.outcomes.set('api/a2/tcp', REFUSED);
    h.engine.add(check('api', 'a1', 'tcp'), 0);
    h.engine.add(check('api', 'a1', 'http'), 0);
    h.engine.add(check('api', 'a2', 'tcp'), 0);
    h.engine.add(check('db', 'd1', 'tcp'), 0);
    await h.clock.advanceAsync(3000, 100);

    const s = await h.scrape();
    const scores = samplesOf(s, N.instanceScore.name);
    expect(scores.map((x) => `${x.labels.service}/${x.labels.service_instance}`).sort()).toEqual(['api/a1', 'api/a2', 'db/d1']);
    for (const x of scores) {
      expect(Object.keys(x.labels).sort()).toEqual(['service', 'service_instance']);
      expect(x.value).toBe(h.rollup.instanceScore(x.labels.service!, x.labels.service_instance!));
      expect(x.value).toBeGreaterThanOrEqual(0);
      expect(x.value).toBeLessThanOrEqual(100);
    }
    expect(sampleValue(s, N.instanceScore.name, { service_instance: 'a1' })).toBe(100);
    expect(sampleValue(s, N.instanceScore.name, { service_instance: 'a2' })).toBe(0); // UNHEALTHY scores 0
    expect(sampleValue(s, N.serviceScore.name, { service: 'api' })).toBe(50);
    expect(sampleValue(s, N.serviceScore.name, { service: 'db' })).toBe(h.rollup.serviceScore('db'));
    expect(samplesOf(s, N.serviceScore.name).length).toBe(2);
  });

  it('follows the score down as a check slows, and drops an instance’s series when it goes', async () => {
    const h = harness();
    h.engine.add(check('api', 'a1', 'tcp'), 0);
    h.engine.add(check('api', 'a2', 'tcp'), 0);
    await h.clock.advanceAsync(10, 10);
    expect(sampleValue(await h.scrape(), N.instanceScore.name, { service_instance: 'a1' })).toBe(100);
    // Answers at 900 ms of a 1 s timeout pull the latency factor down.
    h.delays.set('api/a1/tcp', 900);
    await h.clock.advanceAsync(10_000, 100);
    let s = await h.scrape();
    const slowed = sampleValue(s, N.instanceScore.name, { service_instance: 'a1' });
    expect(slowed).toBeLessThan(80);
    expect(slowed).toBe(h.rollup.instanceScore('api', 'a1'));
    expect(sampleValue(s, N.serviceScore.name, { service: 'api' })).toBe(Math.round((slowed + 100) / 2));

    await h.engine.remove('api/a2/tcp');
    s = await h.scrape();
    expect(samplesOf(s, N.instanceScore.name, { service_instance: 'a2' })).toEqual([]);
    expect(sampleValue(s, N.serviceScore.name, { service: 'api' })).toBe(slowed);
  });
});

describe('the system check’s readings as gauges', () => {
  /** A system check whose runner judges fixed readings with the real judge, so the metric keys are the check's own. */
  function systemCheck(service: string, instance: string, name: string, disks: string[]) {
    const base = systemSpec({ resources: { cpu: {}, memory: {}, load: {}, disk: disks.map((path) => ({ path })) } });
    const spec: CheckSpec = { ...base, id: `${service}/${instance}/${name}`, service, instance, name };
    const plan = systemPlan(base.config, 4);
    const outcome = judgeSystem(plan, {
      cpuBusy: 0.25,
      memory: { totalBytes: 8e9, availableBytes: 2e9, used: 0.75 },
      load: { load1: 1.5, load5: 1.2, load15: 0.9 },
      disks: disks.map((path, i) => ({ path, reading: { used: [0.1, 0.2, 0.3][i]!, availBytes: 1e9, sizeBytes: 2e9 } })),
    });
    return { spec, outcome };
  }

  it('exposes cpu, memory, load and disk per configured path, labelled by service, instance and mount', async () => {
    const h = harness();
    const sys = systemCheck('host', 'node-1', 'system', ['/', '/var/log', '/var-log']);
    h.outcomes.set(sys.spec.id, sys.outcome);
    h.engine.add(sys.spec, 0);
    h.engine.add(check('api', 'a1', 'tcp'), 0); // other kinds add no system series
    await h.clock.advanceAsync(10, 10);

    const s = await h.scrape();
    const who = { service: 'host', service_instance: 'node-1' };
    expect(sampleValue(s, N.systemCpu.name, who)).toBe(0.25);
    expect(sampleValue(s, N.systemMemory.name, who)).toBe(0.75);
    expect(sampleValue(s, N.systemLoad1.name, who)).toBe(1.5);
    expect(sampleValue(s, N.systemLoad5.name, who)).toBe(1.2);
    expect(sampleValue(s, N.systemLoad15.name, who)).toBe(0.9);
    // Two paths that sanitise alike (/var/log, /var-log) keep their own mount label and value.
    expect(samplesOf(s, N.systemDisk.name).map((x) => [x.labels.mount, x.value])).toEqual([
      ['/', 0.1],
      ['/var/log', 0.2],
      ['/var-log', 0.3],
    ]);
    for (const x of samplesOf(s, N.systemCpu.name)) expect(Object.keys(x.labels).sort()).toEqual(['service', 'service_instance']);
    expect(samplesOf(s, N.systemCpu.name).length).toBe(1);
  });

  it('has no series until a run measured them, none after a failed run, and one per instance with two system checks', async () => {
    const h = harness();
    const a = systemCheck('host', 'node-1', 'system', ['/']);
    const b = systemCheck('host', 'node-1', 'system-var', ['/', '/var']);
    h.outcomes.set(a.spec.id, a.outcome);
    h.outcomes.set(b.spec.id, b.outcome);
    h.engine.add(a.spec, 5);
    h.engine.add(b.spec, 5);
    let text = await h.metrics.render();
    expect(samplesOf(parseExposition(text), N.systemCpu.name)).toEqual([]);

    await h.clock.advanceAsync(10, 10);
    text = await h.metrics.render();
    let s = parseExposition(text);
    expect(samplesOf(s, N.systemCpu.name).length).toBe(1);
    expect(
      samplesOf(s, N.systemDisk.name)
        .map((x) => x.labels.mount)
        .sort(),
    ).toEqual(['/', '/var']);
    const lint = promtoolCheckMetrics(text);
    expect(lint.output).toBe('');
    expect(lint.code).toBe(0);

    h.outcomes.set(a.spec.id, { status: 'UNKNOWN', reason: 'error', output: 'cannot read /proc/stat' });
    h.outcomes.set(b.spec.id, { status: 'UNKNOWN', reason: 'error', output: 'cannot read /proc/stat' });
    await h.clock.advanceAsync(10_000, 1000);
    s = await h.scrape();
    expect(samplesOf(s, N.systemCpu.name)).toEqual([]);
    expect(samplesOf(s, N.systemDisk.name)).toEqual([]);
  });
});
