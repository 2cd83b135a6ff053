/**
 * `healthmesh report` end to end (the built CLI against the fixture file),
 * and its progress output in process (a TTY gets a bar, anything else JSON lines).
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReportCommand } from '../../src/cli/report-command.js';
import { FakeClock } from '../../src/core/clock.js';
import { runCli } from '../helpers/spawn.js';
import { END, FIXTURE_YAML, writeFixture, type Fixture } from './fixture.js';

let fixture: Fixture;
const range = ['--from', '2026-11-01', '--to', '2026-11-03'];

beforeAll(async () => {
  fixture = await writeFixture();
  // The CLI opens the file itself: let go of the fixture's connection's WAL first.
  fixture.store.db.pragma('wal_checkpoint(TRUNCATE)');
}, 60_000);
afterAll(async () => fixture?.close());

describe('healthmesh report', () => {
  it('writes an HTML file named by --out, with JSON progress lines on a non-TTY stderr', async () => {
    const out = join(fixture.dir, 'r.html');
    const r = await runCli(['report', '--db', fixture.path, '--type', 'summary', ...range, '--out', out], { timeoutMs: 30_000 });
    expect(r.stderr).not.toMatch(/failed/);
    expect(r.code).toBe(0);
    expect(readFileSync(out, 'utf8').startsWith('<!doctype html>')).toBe(true);
    expect(existsSync(`${out}.partial`)).toBe(false);
    // Owner only: a report holds service names, check outputs and errors.
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const lines = r.stderr.trim().split('\n');
    const progress = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { progress: { stage: string; done: number; total: number } });
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)!.progress).toMatchObject({ stage: 'summary' });
    expect(lines.at(-1)).toMatch(/^healthmesh report: wrote .*r\.html \(summary, html, \d+ rows\)$/);
  }, 40_000);

  it('infers xlsx and a csv zip from the extension, and prints JSON to stdout by default', async () => {
    const xlsx = join(fixture.dir, 'r.xlsx');
    expect((await runCli(['report', '--db', fixture.path, '-t', 'metrics', ...range, '-o', xlsx, '-q'], { timeoutMs: 30_000 })).code).toBe(0);
    expect(readFileSync(xlsx).subarray(0, 2).toString()).toBe('PK');
    const zip = join(fixture.dir, 'r.zip');
    expect((await runCli(['report', '--db', fixture.path, '-t', 'alerts', ...range, '-o', zip, '-q'], { timeoutMs: 30_000 })).code).toBe(0);
    expect(readFileSync(zip).subarray(0, 2).toString()).toBe('PK');
    const json = await runCli(['report', '--db', fixture.path, ...range, '-q'], { timeoutMs: 30_000 });
    expect(json.code).toBe(0);
    expect(json.stderr).toBe('');
    expect(JSON.parse(json.stdout)).toMatchObject({ type: 'summary', range: { from: Date.UTC(2026, 10, 1), to: END } });
  }, 60_000);

  it('reads tags, zones and maintenance from --config', async () => {
    const config = join(fixture.dir, 'hm.yaml');
    writeFileSync(config, FIXTURE_YAML.replace('PATH', fixture.path));
    const r = await runCli(['report', '--config', config, ...range, '--tag', 'blue', '--format', 'md', '-q'], { timeoutMs: 30_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('| api | a1 | eu-1 | blue |');
    expect(r.stdout).not.toContain('| api | a2 |');
    expect(r.stdout).toMatch(/\| web \| w1 \| eu-2 \| blue \| [^|]+ \| [^|]+ \| [^|]+ \| [^|]+ \| [^|]+ \| 2h \|/);
  }, 40_000);

  it('exits 2 naming the field on bad usage, 1 when the file is missing', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--db', fixture.path, '--type', 'weekly'], /type: "weekly" is not a report type/],
      [['--type', 'summary'], /give --config FILE .* or --db FILE/],
      [['--db', fixture.path, '--out', 'r.txt'], /format: cannot tell it from "r.txt"/],
      [['--db', fixture.path, '--from', 'yesterday'], /from: "yesterday" is not a time/],
      [['--db', fixture.path, '--service', 'nope', ...range], /service: no history of service "nope"/],
      [['--db', fixture.path, '--tz', 'Nowhere/Land'], /tz: "Nowhere\/Land" is not a time zone/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(['report', ...args, '-q'], { timeoutMs: 30_000 });
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.code, args.join(' ')).toBe(2);
    }
    const missing = await runCli(['report', '--db', join(fixture.dir, 'none.db')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/db: no history file at/);
  }, 90_000);
});

describe('progress', () => {
  const sink = (tty: boolean): Writable & { isTTY?: boolean; text: string } => {
    const w = new Writable({
      write(chunk: Buffer, _e, cb) {
        w.text += chunk.toString();
        cb();
      },
    }) as Writable & { isTTY?: boolean; text: string };
    w.text = '';
    w.isTTY = tty;
    return w;
  };
  it('draws a bar (cli-progress) on a TTY', async () => {
    const stderr = sink(true);
    const stdout = sink(false);
    const code = await runReportCommand(
      { db: fixture.path, type: 'detailed', from: '2026-11-01', to: '2026-11-02', format: 'json' },
      { stdout, stderr, clock: new FakeClock(END) },
    );
    expect(code).toBe(0);
    expect(stderr.text).toMatch(/results \[[█░]+\]/);
    expect(JSON.parse(stdout.text).type).toBe('detailed');
  }, 30_000);
});
