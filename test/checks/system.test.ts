import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  cpuBusyBetween,
  createSystemCheck,
  diskUsage,
  parseCpuTimes,
  parseLoadavg,
  parseMeminfo,
  systemCheck,
  type StatfsReading,
  type SystemSource,
} from '../../src/checks/system.js';
import { systemCheckSchema } from '../../src/config/kinds/system.js';
import type { CheckRunner } from '../../src/core/check.js';
import { openFds, settleFds } from '../helpers/fds.js';
import { attempt, checkDeps } from '../helpers/run-check.js';
import { systemSpec, type SystemInput } from '../helpers/spec.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/proc/', import.meta.url));
const fixture = (name: string): string => readFileSync(`${FIXTURES}${name}`, 'latin1');

/** `cpu` line with the given busy (user) and idle ticks. */
const cpuLine = (busy: number, idle: number): string => `cpu  ${busy} 0 0 ${idle} 0 0 0 0 0 0\ncpu0 1 2 3 4\n`;
const meminfo = (totalKb: number, availKb: number): string => `MemTotal:       ${totalKb} kB\nMemFree:        1 kB\nMemAvailable:   ${availKb} kB\n`;
const GiB = 1024 ** 3;
/** statfs of a disk of `sizeGiB` with `usedShare` used (4 KiB blocks, no root reserve). */
const disk = (sizeGiB: number, usedShare: number): StatfsReading => {
  const blocks = (sizeGiB * GiB) / 4096;
  const free = Math.round(blocks * (1 - usedShare));
  return { blocks, bfree: free, bavail: free, bsize: 4096 };
};

/** A scripted source: every read returns the next queued text (the last one repeats). */
class FakeSource implements SystemSource {
  stats: string[] = [cpuLine(0, 0)];
  mem = meminfo(1000, 500);
  load = '0.50 0.40 0.30 1/100 123\n';
  disks = new Map<string, StatfsReading | Error | 'hang'>();
  calls = { stat: 0, meminfo: 0, loadavg: 0, statfs: 0 };
  closed = false;
  cpus = 2;

  private nextStat(): string {
    return (this.stats.length > 1 ? this.stats.shift() : this.stats[0]) as string;
  }
  statSync(): string {
    return this.nextStat();
  }
  stat(): Promise<string> {
    this.calls.stat++;
    return Promise.resolve(this.nextStat());
  }
  meminfo(): Promise<string> {
    this.calls.meminfo++;
    return Promise.resolve(this.mem);
  }
  loadavg(): Promise<string> {
    this.calls.loadavg++;
    return Promise.resolve(this.load);
  }
  statfs(path: string): Promise<StatfsReading> {
    this.calls.statfs++;
    const d = this.disks.get(path);
    if (d === 'hang') return new Promise(() => {});
    if (d instanceof Error) return Promise.reject(d);
    if (d === undefined) return Promise.reject(Object.assign(new Error(`ENOENT: no such file or directory, statfs '${path}'`), { code: 'ENOENT' }));
    return Promise.resolve(d);
  }
  cpuCount(): number {
    return this.cpus;
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

const runners: CheckRunner[] = [];
afterEach(async () => {
  while (runners.length > 0) await runners.pop()?.close?.();
});

function fakeCheck(input: SystemInput, source: FakeSource): CheckRunner {
  const r = createSystemCheck(systemSpec(input), source);
  runners.push(r);
  return r;
}

describe('system /proc parsers', () => {
  it('reads busy and total ticks from the cpu line of /proc/stat', () => {
    // cpu  150852 0 31935 123680 698 0 7333 620 0 0
    expect(parseCpuTimes(fixture('stat.txt'))).toEqual({
      busy: 150852 + 31935 + 7333 + 620,
      total: 150852 + 31935 + 123680 + 698 + 7333 + 620,
    });
    expect(parseCpuTimes('cpu0 1 2 3 4\n')).toBeUndefined();
    expect(parseCpuTimes('cpu  a b c d\n')).toBeUndefined();
    expect(parseCpuTimes('')).toBeUndefined();
  });

  it('gives the busy share between two samples, undefined when no tick passed', () => {
    expect(cpuBusyBetween({ busy: 100, total: 200 }, { busy: 175, total: 300 })).toBe(0.75);
    expect(cpuBusyBetween({ busy: 100, total: 200 }, { busy: 100, total: 200 })).toBeUndefined();
  });

  it('reads memory from /proc/meminfo, with the pre-3.14 fallback without MemAvailable', () => {
    expect(parseMeminfo(fixture('meminfo.txt'))).toEqual({
      totalBytes: 24683656 * 1024,
      availableBytes: 23202496 * 1024,
      used: 1 - 23202496 / 24683656,
    });
    expect(parseMeminfo('MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 250 kB\n')?.used).toBeCloseTo(0.6, 12);
    expect(parseMeminfo('nothing here')).toBeUndefined();
  });

  it('reads the three load averages from /proc/loadavg', () => {
    expect(parseLoadavg(fixture('loadavg.txt'))).toEqual({ load1: 11.91, load5: 7.82, load15: 4.24 });
    expect(parseLoadavg('x y')).toBeUndefined();
  });

  it('computes disk use as df does (reserved blocks count as unavailable)', () => {
    // 100 blocks, 40 free of which 30 available to users: df says 60/(60+30).
    expect(diskUsage({ blocks: 100, bfree: 40, bavail: 30, bsize: 4096 })).toEqual({
      used: 60 / 90,
      availBytes: 30 * 4096,
      sizeBytes: 100 * 4096,
    });
    expect(diskUsage({ blocks: 0, bfree: 0, bavail: 0, bsize: 4096 }).used).toBe(0);
  });
});

describe('system check thresholds (fake readings)', () => {
  it('is HEALTHY under every threshold and reports every figure as a metric', async () => {
    const src = new FakeSource();
    src.stats = [cpuLine(0, 0), cpuLine(30, 70)];
    src.disks.set('/', disk(100, 0.5)).set('/var/log', disk(10, 0.25));
    const r = await attempt(
      fakeCheck(
        {
          resources: {
            cpu: { warn: 0.8, critical: 0.95 },
            memory: { warn: 0.8, critical: 0.9 },
            load: { warn: 4, critical: 8 },
            disk: [{ path: '/', warn: 0.8, critical: 0.9 }, { path: '/var/log' }],
          },
        },
        src,
      ),
      1000,
    );
    expect(r).toMatchObject({ status: 'HEALTHY', reason: 'ok' });
    expect(r.output).toBe('cpu 30.0%, memory 50.0%, load1 0.5, disk / 50.0%, disk /var/log 25.0%');
    expect(r.metrics).toEqual({
      cpu_busy: 0.3,
      memory_used: 0.5,
      memory_total_bytes: 1000 * 1024,
      memory_available_bytes: 500 * 1024,
      load1: 0.5,
      load5: 0.4,
      load15: 0.3,
      load1_per_cpu: 0.25,
      cpus: 2,
      disk_used_root: 0.5,
      disk_avail_bytes_root: 50 * GiB,
      disk_used_var_log: 0.25,
      disk_avail_bytes_var_log: 7.5 * GiB,
    });
  });

  it('is DEGRADED threshold_warning naming the resource at or over warn', async () => {
    const src = new FakeSource();
    src.mem = meminfo(1000, 150); // 85 % used
    const r = await attempt(fakeCheck({ resources: { memory: { warn: 0.85, critical: 0.95 } } }, src), 1000);
    expect(r).toMatchObject({ status: 'DEGRADED', reason: 'threshold_warning', output: 'warning: memory 85.0% ≥ 85.0%' });
  });

  it('is UNHEALTHY threshold_critical naming critical resources first, then warnings', async () => {
    const src = new FakeSource();
    src.stats = [cpuLine(0, 0), cpuLine(85, 15)];
    src.disks.set('/', disk(100, 0.5)).set('/data', disk(100, 0.97));
    const r = await attempt(
      fakeCheck(
        {
          resources: {
            cpu: { warn: 0.8, critical: 0.95 },
            disk: [
              { path: '/', warn: 0.8, critical: 0.9 },
              { path: '/data', warn: 0.8, critical: 0.95 },
            ],
          },
        },
        src,
      ),
      1000,
    );
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'threshold_critical' });
    expect(r.output).toBe('critical: disk /data 97.0% ≥ 95.0%; warning: cpu 85.0% ≥ 80.0%');
    expect(r.metrics?.disk_used_data).toBeCloseTo(0.97, 6);
  });

  it('divides the load by the CPU count with per_cpu', async () => {
    const src = new FakeSource();
    src.cpus = 4;
    src.load = '6.00 1.00 1.00 1/100 1\n';
    const perCpu = await attempt(fakeCheck({ resources: { load: { warn: 1, critical: 2, per_cpu: true } } }, src), 1000);
    expect(perCpu).toMatchObject({ status: 'DEGRADED', output: 'warning: load1/cpu 1.5 ≥ 1' });
    const raw = await attempt(fakeCheck({ resources: { load: { warn: 1, critical: 2 } } }, src), 1000);
    expect(raw).toMatchObject({ status: 'UNHEALTHY', output: 'critical: load1 6 ≥ 2' });
  });

  it('measures a resource without thresholds but never judges it', async () => {
    const src = new FakeSource();
    src.mem = meminfo(1000, 1); // 99.9 % used
    const r = await attempt(fakeCheck({ resources: { memory: {} } }, src), 1000);
    expect(r).toMatchObject({ status: 'HEALTHY', output: 'memory 99.9%' });
  });

  it('takes the cpu baseline at construction, so the first run measures since then without waiting', async () => {
    const src = new FakeSource();
    // Since boot 10 % busy; since construction 90 %.
    src.stats = [cpuLine(100, 900), cpuLine(190, 910), cpuLine(190, 1010)];
    const check = fakeCheck({ resources: { cpu: {} } }, src);
    const first = await attempt(check, 1000);
    expect(first.metrics?.cpu_busy).toBeCloseTo(0.9, 12);
    expect(first.elapsedMs).toBeLessThan(100);
    const second = await attempt(check, 1000);
    expect(second.metrics?.cpu_busy).toBe(0);
  });

  it('repeats the previous cpu figure when no tick passed, and uses since-boot for a first run without one', async () => {
    const src = new FakeSource();
    src.stats = [cpuLine(25, 75), cpuLine(25, 75), cpuLine(75, 125), cpuLine(75, 125)];
    const check = fakeCheck({ resources: { cpu: {} } }, src);
    expect((await attempt(check, 1000)).metrics?.cpu_busy).toBe(0.25); // since boot
    expect((await attempt(check, 1000)).metrics?.cpu_busy).toBe(0.5); // (75-25)/(200-100)
    expect((await attempt(check, 1000)).metrics?.cpu_busy).toBe(0.5); // no tick: repeated
  });

  it('reads only the configured resources', async () => {
    const src = new FakeSource();
    src.disks.set('/', disk(1, 0.1));
    await attempt(fakeCheck({ resources: { disk: [{ path: '/' }] } }, src), 1000);
    expect(src.calls).toEqual({ stat: 0, meminfo: 0, loadavg: 0, statfs: 1 });
  });

  it('is UNKNOWN error naming the disk when statfs fails, or the file when /proc cannot be parsed', async () => {
    const src = new FakeSource();
    const r = await attempt(fakeCheck({ resources: { disk: [{ path: '/nope' }] } }, src), 1000);
    expect(r).toMatchObject({ status: 'UNKNOWN', reason: 'error' });
    expect(r.output).toMatch(/^cannot read system figures: .*ENOENT.*statfs '\/nope'/);
    src.load = 'garbage';
    const bad = await attempt(fakeCheck({ resources: { load: {} } }, src), 1000);
    expect(bad).toMatchObject({ status: 'UNKNOWN', reason: 'error', output: 'cannot parse /proc/loadavg' });
  });

  it('returns timeout at the abort while a statfs hangs', async () => {
    const src = new FakeSource();
    src.disks.set('/mnt/dead-nfs', 'hang');
    const r = await attempt(fakeCheck({ resources: { disk: [{ path: '/mnt/dead-nfs' }] } }, src), 150);
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'timeout' });
    expect(r.elapsedMs).toBeLessThan(150 + 300);
  });

  it('closes its source on close()', async () => {
    const src = new FakeSource();
    const check = createSystemCheck(systemSpec(), src);
    await check.close?.();
    expect(src.closed).toBe(true);
  });
});

describe('system check config', () => {
  it('measures cpu, memory, load and / by default, judging memory and / at 90 % / 95 %', () => {
    expect(systemCheckSchema.parse({ kind: 'system' }).resources).toEqual({
      cpu: {},
      memory: { warn: 0.9, critical: 0.95 },
      load: { per_cpu: true },
      disk: [{ path: '/', warn: 0.9, critical: 0.95 }],
    });
  });

  it('refuses no resource, warn over critical, shares over 1 and relative paths, naming the field', () => {
    const path = (input: unknown) => systemCheckSchema.safeParse({ kind: 'system', resources: input }).error?.issues[0]?.path;
    expect(path({})).toEqual(['resources']);
    expect(path({ cpu: { warn: 0.9, critical: 0.8 } })).toEqual(['resources', 'cpu', 'warn']);
    expect(path({ memory: { warn: 1.5 } })).toEqual(['resources', 'memory', 'warn']);
    expect(path({ disk: [{ path: 'var' }] })).toEqual(['resources', 'disk', 0, 'path']);
  });
});

describe('system check on this machine', () => {
  it('reads the real /proc and statfs: shares in [0, 1], / present, files closed on close()', async () => {
    const baseline = openFds();
    const check = systemCheck(systemSpec({ resources: { cpu: {}, memory: {}, load: {}, disk: [{ path: '/' }] } }), checkDeps());
    const first = await attempt(check, 2000);
    await new Promise((r) => setTimeout(r, 50));
    const second = await attempt(check, 2000);
    for (const r of [first, second]) {
      expect(r).toMatchObject({ status: 'HEALTHY', reason: 'ok' });
      const m = r.metrics ?? {};
      for (const k of ['cpu_busy', 'memory_used', 'disk_used_root']) {
        expect(m[k], k).toBeGreaterThanOrEqual(0);
        expect(m[k], k).toBeLessThanOrEqual(1);
      }
      expect(m.disk_avail_bytes_root).toBeGreaterThan(0);
      expect(m.memory_total_bytes).toBeGreaterThan(0);
      expect(m.load1).toBeGreaterThanOrEqual(0);
      expect(m.cpus).toBeGreaterThanOrEqual(1);
    }
    expect(openFds()).toBeGreaterThan(baseline); // the /proc files stay open between runs
    await check.close?.();
    expect(await settleFds(baseline)).toBeLessThanOrEqual(baseline);
  });
});
