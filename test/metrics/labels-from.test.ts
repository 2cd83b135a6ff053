import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { CheckRunner, CheckSpec } from '../../src/core/check.js';
import { FakeClock } from '../../src/core/clock.js';
import { ConfigError } from '../../src/core/errors.js';
import { seeded } from '../../src/core/random.js';
import type { ProbeOutcome } from '../../src/core/result.js';
import { judgeSystem, systemPlan } from '../../src/checks/system.js';
import { parseConfig } from '../../src/config/load.js';
import { startDaemon } from '../../src/daemon.js';
import { Engine } from '../../src/engine.js';
import { instanceLabelValue, type InstanceInfo } from '../../src/metrics/instance-labels.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { FAMILIES } from '../../src/metrics/names.js';
import { StatusRollup } from '../../src/status/rollup.js';
import { parseExposition, promtoolCheckMetrics, samplesOf, type ParsedSample } from '../helpers/prometheus.js';
import { fakeSpec, systemSpec } from '../helpers/spec.js';

const OK: ProbeOutcome = { status: 'HEALTHY', reason: 'ok', output: 'ok' };
const N = FAMILIES;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

describe('instanceLabelValue', () => {
  it('takes metadata first, then the first key=value tag, else ""; a bare tag names no key', () => {
    const info: InstanceInfo = { metadata: { team: 'payments' }, tags: ['canary', 'team=ops', 'tier=gold', 'tier=silver', 'note=a=b'] };
    expect(instanceLabelValue(info, 'team')).toBe('payments');
    expect(instanceLabelValue(info, 'tier')).toBe('gold');
    expect(instanceLabelValue(info, 'note')).toBe('a=b');
    expect(instanceLabelValue(info, 'canary')).toBe('');
    expect(instanceLabelValue(info, 'zone')).toBe('');
    expect(instanceLabelValue(undefined, 'team')).toBe('');
    expect(instanceLabelValue({ metadata: {}, tags: [] }, 'toString')).toBe(''); // no prototype keys
  });
});

describe('createMetrics with labelsFrom', () => {
  const infos = new Map<string, InstanceInfo>([
    ['api/a1', { metadata: { team: 'payments' }, tags: ['tier=gold'] }],
    ['api/a2', { metadata: { team: 'payments', tier: 'silver' }, tags: ['tier=gold'] }],
  ]);

  async function populated(labelsFrom: string[]) {
    const clock = new FakeClock(0);
    const sys = systemSpec({ resources: { cpu: {}, disk: [{ path: '/' }] } });
    const sysOutcome = judgeSystem(systemPlan(sys.config, 1), { cpuBusy: 0.5, disks: [{ path: '/', reading: { used: 0.4, availBytes: 1, sizeBytes: 2 } }] });
    const runnerFor = (spec: CheckSpec): CheckRunner => ({ run: async () => (spec.kind === 'system' ? sysOutcome : OK) });
    const engine = new Engine({ clock, random: seeded(1), concurrency: 10, spreadFirstRun: false, runnerFor });
    const rollup = new StatusRollup(() => 1);
    rollup.attach(engine.bus);
    let lookups = 0;
    const metrics = createMetrics({
      engine,
      rollup,
      processMetrics: false,
      labelsFrom,
      instanceInfo: (service, instance) => {
        lookups++;
        return infos.get(`${service}/${instance}`);
      },
    });
    cleanups.push(
      () => engine.stop(),
      () => metrics.detach(),
    );
    for (const [instance, name] of [
      ['a1', 'tcp'],
      ['a1', 'http'],
      ['a2', 'tcp'],
      ['a3', 'tcp'],
    ] as const) {
      engine.add({ ...fakeSpec(`api/${instance}/${name}`), service: 'api', instance, name }, 0);
    }
    engine.add({ ...sys, id: 'api/a1/system', service: 'api', instance: 'a1', name: 'system' }, 0);
    await clock.advanceAsync(10, 10);
    return { metrics, lookups: () => lookups, scrape: async (): Promise<ParsedSample[]> => parseExposition(await metrics.render()) };
  }

  it('adds the allowlisted keys to every per-check and per-instance family, and to nothing else', async () => {
    const { metrics, scrape } = await populated(['team', 'tier']);
    const s = await scrape();
    const perInstance = [N.checkStatus, N.checkFlapping, N.instanceStatus, N.instanceScore, N.systemCpu, N.systemDisk];
    for (const family of perInstance) {
      const samples = samplesOf(s, family.name);
      expect(samples.length, family.name).toBeGreaterThan(0);
      for (const x of samples) {
        const expected = { a1: ['payments', 'gold'], a2: ['payments', 'silver'], a3: ['', ''] }[x.labels.service_instance as 'a1' | 'a2' | 'a3'];
        expect([x.labels.team ?? '', x.labels.tier ?? ''], `${family.name} ${x.labels.service_instance}`).toEqual(expected);
      }
    }
    // Prometheus' text keeps an empty value; it reads as no label.
    expect(await metrics.render()).toMatch(/^healthmesh_instance_score\{service="api",service_instance="a3",team="",tier=""\} /m);
    for (const family of [N.serviceStatus, N.serviceScore, N.meshStatus, N.checkRuns, N.checkFailures, `${N.checkDuration.name}_bucket`, N.schedulerChecks]) {
      const name = typeof family === 'string' ? family : family.name;
      for (const x of samplesOf(s, name)) expect(x.labels, name).not.toHaveProperty('team');
    }
    // Labels name series, they do not add any.
    expect(samplesOf(s, N.checkStatus.name).length).toBe(5 * 4);
    expect(samplesOf(s, N.instanceScore.name).length).toBe(3);
    const lint = promtoolCheckMetrics(await metrics.render());
    expect(lint.output).toBe('');
    expect(lint.code).toBe(0);
  });

  it('looks each instance up once per scrape, and sees a metadata change at the next scrape', async () => {
    const { lookups, scrape } = await populated(['team']);
    await scrape();
    expect(lookups()).toBe(3); // three instances, however many families and checks ask
    infos.set('api/a3', { metadata: { team: 'search' }, tags: [] });
    const s = await scrape();
    expect(lookups()).toBe(6);
    expect(samplesOf(s, N.instanceScore.name, { service_instance: 'a3' })[0]!.labels.team).toBe('search');
    infos.delete('api/a3');
  });

  it('without labelsFrom, looks nothing up and keeps the label sets as they were', async () => {
    const { lookups, scrape } = await populated([]);
    const s = await scrape();
    expect(lookups()).toBe(0);
    expect(Object.keys(samplesOf(s, N.checkStatus.name)[0]!.labels).sort()).toEqual(['check', 'kind', 'service', 'service_instance', 'status']);
  });

  it.each([['service'], ['status'], ['instance'], ['le'], ['__team'], ['9team'], ['team-x']])('refuses labelsFrom %j', (name) => {
    const engine = new Engine({ clock: new FakeClock(0), random: seeded(1), concurrency: 1 });
    expect(() => createMetrics({ engine, rollup: new StatusRollup(() => 1), labelsFrom: [name] })).toThrow(TypeError);
  });
});

describe('metrics.labels_from in the config', () => {
  const service = 'services:\n  api:\n    instances: [{ address: "127.0.0.1:1", metadata: { team: x } }]\n';
  function problems(text: string): string[] {
    try {
      parseConfig(text, { file: 'hm.yaml', env: {} });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as ConfigError).issues.map((i) => `${i.line}:${i.path}: ${i.message}`);
    }
    throw new Error('expected the config to be rejected');
  }

  it('defaults to no extra labels and takes an allowlist', () => {
    expect(parseConfig(service, { env: {} }).metrics).toEqual({ labels_from: [], protect: false, per_check: 'status' });
    expect(parseConfig(`metrics:\n  labels_from: [team, tier]\n${service}`, { env: {} }).metrics.labels_from).toEqual(['team', 'tier']);
  });

  it.each([
    ['metrics:\n  labels_from: [service]\n', /2:metrics\.labels_from\[0\]: "service" is already a label/],
    ['metrics:\n  labels_from: [team, team]\n', /2:metrics\.labels_from: name each key once/],
    ['metrics:\n  labels_from: [9lives]\n', /2:metrics\.labels_from\[0\]: use a Prometheus label name/],
    ['metrics:\n  labels_from: [__name]\n', /2:metrics\.labels_from\[0\]: names starting with "__"/],
    ['metrics:\n  labels_from: [a, b, c, d, e, f, g, h, i]\n', /2:metrics\.labels_from: /],
    ['metrics:\n  label_from: [team]\n', /metrics/],
  ])('names the culprit of %j', (extra, expected) => {
    expect(problems(extra + service).join('\n')).toMatch(expected);
  });
});

describe('the daemon with metrics.labels_from', () => {
  it('labels /metrics from the metadata and tags of config instances', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hm-labels-'));
    const config = parseConfig(
      `server: { listen: "127.0.0.1:0" }
storage: { path: "${join(dir, 'hm.db')}" }
defaults: { interval: 1h }
metrics: { labels_from: [team, tier], per_check: full }
services:
  api:
    instances:
      - { id: a1, address: "127.0.0.1:1", metadata: { team: payments }, tags: [tier=gold, canary] }
    checks: [{ kind: tcp }]
`,
      { env: {} },
    );
    const daemon = await startDaemon({ config, logger: pino({ level: 'silent' }) });
    cleanups.push(() => daemon.stop());
    const text = await (await fetch(`http://127.0.0.1:${daemon.address.port}/metrics`)).text();
    const status = samplesOf(parseExposition(text), N.checkStatus.name, { check: 'api/a1/tcp' });
    expect(status.length).toBe(4);
    for (const x of status) expect(x.labels).toMatchObject({ service: 'api', service_instance: 'a1', team: 'payments', tier: 'gold' });
  }, 30_000);
});
