import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { seeded } from '../../src/core/random.js';
import { runCli } from '../helpers/spawn.js';
import { gauss } from './synthetic.js';

const dir = mkdtempSync(join(tmpdir(), 'hm-analyze-'));
const START = Date.UTC(2024, 0, 1);
const STEP = 300_000;

/** Write a CSV with a header; `format` renders each time. */
function csv(name: string, rows: Array<[string, string]>): string {
  const file = join(dir, name);
  writeFileSync(file, `timestamp,value\n${rows.map(([t, v]) => `${t},${v}`).join('\n')}\n`);
  return file;
}

const formats: Record<string, (ms: number) => string> = {
  iso: (ms) => new Date(ms).toISOString(),
  'iso-offset': (ms) => new Date(ms + 2 * 3_600_000).toISOString().replace('Z', '+02:00'),
  space: (ms) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19),
  'epoch-s': (ms) => String(ms / 1000),
  'epoch-ms': (ms) => String(ms),
};

/** 600 points of noise around 50 with a spike at row 500 (line 502 of the file). */
function spiky(format: (ms: number) => string): Array<[string, string]> {
  const r = seeded(1);
  return Array.from({ length: 600 }, (_, i) => [format(START + i * STEP), (i === 500 ? 150 : 50 + gauss(r)).toFixed(3)] as [string, string]);
}

describe('healthmesh analyze', { timeout: 30_000 }, () => {
  it.each(Object.keys(formats))('anomaly mode reads %s timestamps, echoes them and flags the spike', async (name) => {
    const rows = spiky(formats[name]!);
    const r = await runCli(['analyze', '--input', csv(`${name}.csv`, rows), '--mode', 'anomaly']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('timestamp,value,score,anomaly');
    expect(lines).toHaveLength(601);
    const out = lines.slice(1).map((l) => l.split(','));
    out.forEach(([t, v, score, flag], i) => {
      expect(t).toBe(rows[i]![0]);
      expect(v).toBe(rows[i]![1]);
      expect(Number(score)).toBeGreaterThanOrEqual(0);
      expect(Number(score)).toBeLessThanOrEqual(1);
      expect(['0', '1']).toContain(flag);
    });
    expect(out[500]![3]).toBe('1');
    expect(out.filter((o) => o[3] === '1').length).toBeLessThanOrEqual(3);
  });

  it('tolerates gaps: detects the interval and counts the gaps in trend mode', async () => {
    const rows = spiky(formats.iso!).filter((_, i) => i % 100 !== 50);
    const r = await runCli(['analyze', '-i', csv('gaps.csv', rows), '-m', 'trend']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/594 rows, .* every 5m, 6 gaps/);
    expect(r.stdout).toMatch(/^trend: (stable|volatile) /m);
  });

  it('trend mode finds a rising latency degrading, and JSON says the same', async () => {
    const r0 = seeded(2);
    const rows = Array.from({ length: 300 }, (_, i) => [formats.space!(START + i * 60_000), (100 + i * 0.5 + 3 * gauss(r0)).toFixed(2)] as [string, string]);
    const file = csv('rising.csv', rows);
    const human = await runCli(['analyze', '-i', file, '-m', 'trend']);
    expect(human.stdout).toMatch(/trend: degrading \(confidence 1\.000, lower is better\): slope \+30\.\d*\/h/);
    const json = await runCli(['analyze', '-i', file, '-m', 'trend', '--json', '--better', 'higher']);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.input).toMatchObject({ rows: 300, intervalMs: 60_000, gaps: 0 });
    expect(parsed.trend).toMatchObject({ ok: true, trend: { direction: 'improving' } });
  });

  it('forecast mode dates a crossing, and refuses a random walk with its reason', async () => {
    const r0 = seeded(3);
    const rising = Array.from(
      { length: 300 },
      (_, i) => [formats['epoch-ms']!(START + i * 60_000), (100 + i * 0.5 + 3 * gauss(r0)).toFixed(2)] as [string, string],
    );
    const f = await runCli(['analyze', '-i', csv('f.csv', rising), '-m', 'forecast', '--threshold', '300', '--json']);
    expect(f.code).toBe(0);
    const parsed = JSON.parse(f.stdout);
    expect(parsed.forecast.ok).toBe(true);
    // 300 is reached 100 minutes after the last point (250 at minute 299, +0.5 a minute).
    const at = parsed.forecast.forecast.crossing.at;
    expect(Math.abs(at - (START + 399 * 60_000))).toBeLessThan(15 * 60_000);
    let walk = 0;
    const walking = Array.from({ length: 300 }, (_, i) => {
      walk += gauss(r0);
      return [formats.iso!(START + i * 60_000), (100 + walk).toFixed(2)] as [string, string];
    });
    const w = await runCli(['analyze', '-i', csv('w.csv', walking), '-m', 'forecast', '-t', '300']);
    expect(w.code).toBe(0);
    expect(w.stdout).toMatch(/forecast: none \(no_significant_trend: /);
  });

  it('reports bad rows with their line numbers, skips them and exits 1', async () => {
    const file = join(dir, 'bad.csv');
    writeFileSync(
      file,
      'timestamp,value\n2024-01-01T00:00:00Z,1\nyesterday,2\n2024-01-01T00:10:00Z,abc\n2024-01-01T00:15:00Z,3\n2023-12-31 00:00:00,4\n2024-02-30 00:00:00,5\n\n2024-01-01T00:20:00Z,6\n',
    );
    const r = await runCli(['analyze', '-i', file, '-m', 'anomaly']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}:3: timestamp "yesterday" is not ISO 8601`);
    expect(r.stderr).toContain(`${file}:4: value "abc" is not a number`);
    expect(r.stderr).toContain(`${file}:6: timestamp 2023-12-31 00:00:00 is before the previous row's`);
    expect(r.stderr).toContain(`${file}:7: timestamp "2024-02-30 00:00:00"`);
    expect(r.stderr).toContain('4 bad rows skipped');
    expect(r.stdout.trim().split('\n')).toHaveLength(4);
  });

  it('says a missing header, a missing file and bad options, with exit codes 1 and 2', async () => {
    const file = join(dir, 'noheader.csv');
    writeFileSync(file, '2024-01-01T00:00:00Z,1\n2024-01-01T00:05:00Z,2\n');
    const noHeader = await runCli(['analyze', '-i', file, '-m', 'anomaly']);
    expect(noHeader.code).toBe(1);
    expect(noHeader.stderr).toContain(`${file}:1: expected a header row`);
    const missing = await runCli(['analyze', '-i', join(dir, 'nope.csv'), '-m', 'trend']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read .*nope\.csv/);
    const badMode = await runCli(['analyze', '-i', file, '-m', 'guess']);
    expect(badMode.code).toBe(2);
    expect(badMode.stderr).toContain('--mode must be one of anomaly, trend, forecast');
    const noThreshold = await runCli(['analyze', '-i', file, '-m', 'forecast']);
    expect(noThreshold.code).toBe(2);
  });
});
