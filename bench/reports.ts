/**
 * bench/reports: how long a report takes and how much memory it holds, over
 * the two histories of bench/lib/report-fixtures.ts (generated once into
 * --dir, default /tmp/hm-reports-bench, and reused):
 * - raw: 8.64M results (100 services × 10 instances × a day at 10 s);
 * - year: a year of hour rollups and transitions of 1,000 instances.
 * Each (history, type, format) runs in a child process of its own, so its
 * peak RSS (resourceUsage().maxRSS) is its own: the child opens the store,
 * builds the report over the whole history and writes it to a file. The
 * store is opened as `healthmesh report` opens it (8 MiB page cache;
 * HM_CACHE_MB overrides).
 * Prints one JSON line: per run wall ms, CPU ms, peak RSS MB, output bytes,
 * and the machine's load average before and after.
 *
 *   npx tsc -p . && node dist/bench/reports.js [--dir D] [--cases raw,year] [--types summary,detailed] [--formats json,html,csv,markdown,xlsx]
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { prepareReport } from '../src/reports/generate.js';
import { sqliteReportSource } from '../src/reports/sqlite-source.js';
import { REPORT_FORMATS, REPORT_TYPES, type ReportFormat, type ReportType } from '../src/reports/types.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import { RAW_END, RAW_START, rawFixture, YEAR_END, YEAR_START, yearFixture } from './lib/report-fixtures.js';

const log = (line: string): void => void process.stderr.write(`${line}\n`);

/** One report in this process: prints its figures as JSON. */
async function child(path: string, range: [number, number], type: ReportType, format: ReportFormat, out: string): Promise<void> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const store = await openSqliteStore({ path, checkpoints: 'inline', cacheSizeMb: Number(process.env.HM_CACHE_MB ?? 8) });
  const opened = await sqliteReportSource(store);
  const prepared = await prepareReport({
    source: opened.source,
    request: { type, from: range[0], to: range[1], timeZone: 'UTC', services: [], tags: [], zones: [], granularity: 'auto' },
    format,
    now: range[1],
    render: { consumeRows: true }, // as the CLI, the API and schedules write it
  });
  const built = performance.now();
  await prepared.write(createWriteStream(out));
  const done = performance.now();
  await opened.close();
  await store.close();
  const used = process.cpuUsage(cpu);
  process.stdout.write(
    `${JSON.stringify({
      ms: Math.round(done - started),
      buildMs: Math.round(built - started),
      renderMs: Math.round(done - built),
      cpuMs: Math.round((used.user + used.system) / 1000),
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      bytes: statSync(out).size,
      rows: prepared.document.tables.reduce((n, t) => n + t.rows.length, 0),
    })}\n`,
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dir: { type: 'string', default: '/tmp/hm-reports-bench' },
      cases: { type: 'string', default: 'raw,year' },
      types: { type: 'string', default: 'summary,detailed' },
      formats: { type: 'string', default: REPORT_FORMATS.join(',') },
      child: { type: 'string' },
    },
  });
  const ranges: Record<string, [number, number]> = { raw: [RAW_START, RAW_END], year: [YEAR_START, YEAR_END] };
  if (values.child) {
    const [name, type, format, out] = values.child.split(':') as [string, ReportType, ReportFormat, string];
    return child(join(values.dir, `${name}.db`), ranges[name]!, type, format, out);
  }
  const cases = values.cases.split(',');
  const types = values.types.split(',').filter((t): t is ReportType => REPORT_TYPES.some((x) => x === t));
  const formats = values.formats.split(',').filter((f): f is ReportFormat => REPORT_FORMATS.some((x) => x === f));
  if (cases.includes('raw')) await rawFixture(values.dir, log);
  if (cases.includes('year')) await yearFixture(values.dir, log);
  const loadBefore = loadavg().map((x) => Math.round(x * 100) / 100);
  const runs: Array<Record<string, unknown>> = [];
  const self = fileURLToPath(import.meta.url);
  for (const name of cases) {
    for (const type of types) {
      for (const format of formats) {
        const out = join(values.dir, `out-${name}-${type}.${format}`);
        const text = execFileSync(process.execPath, [self, '--dir', values.dir, '--child', `${name}:${type}:${format}:${out}`], {
          encoding: 'utf8',
          maxBuffer: 1 << 20,
        });
        const figures = JSON.parse(text.trim().split('\n').at(-1)!) as Record<string, number>;
        runs.push({ history: name, type, format, ...figures });
        log(`${name} ${type} ${format}: ${figures.ms} ms, ${figures.peakRssMb} MB`);
      }
    }
  }
  const loadAfter = loadavg().map((x) => Math.round(x * 100) / 100);
  process.stdout.write(
    `${JSON.stringify({ bench: 'reports', histories: { raw: '100 services x 10 instances x 1 check, 1 day at 10 s (8.64M results)', year: '1,000 instances, 365 days of hour rollups and transitions' }, loadBefore, loadAfter, runs })}\n`,
  );
}

await main();
