/**
 * `healthmesh report --type summary --format html --from 30d --out r.html`
 * (`--config FILE` or `--db FILE`): a report of the stored history, written
 * to a file (format inferred from its extension) or to stdout. Progress goes
 * to stderr: a bar (cli-progress) on a terminal, JSON lines otherwise
 * (`--quiet` for none). Exit 0 written, 1 failed, 2 bad usage.
 */
import { createWriteStream, existsSync, renameSync, rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import type { Command } from 'commander';
import { realClock, type Clock } from '../core/clock.js';
import { isConfigError, isUsageError, UsageError } from '../core/errors.js';
import { loadConfigFile } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { ProgressListener, ReportFormat, ReportRequest, ReportType } from '../reports/types.js';

/** Options as commander hands them over. */
export interface ReportCommandOptions {
  type?: string;
  format?: string;
  from?: string;
  to?: string;
  tz?: string;
  service?: string[];
  tag?: string[];
  zone?: string[];
  granularity?: string;
  slo?: string;
  table?: string;
  out?: string;
  config?: string;
  db?: string;
  quiet?: boolean;
}

/** Where the command writes (tests pass their own). */
export interface ReportCommandIo {
  stdout: Writable;
  stderr: Writable & { isTTY?: boolean };
  clock: Clock;
}

function list(values: readonly string[] | undefined): string[] {
  return (values ?? [])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
}

/** Run the command; resolves with the exit code. */
export async function runReportCommand(o: ReportCommandOptions, io: ReportCommandIo): Promise<number> {
  const say = (line: string): void => void io.stderr.write(`healthmesh report: ${line}\n`);
  const [{ parseFormat, formatOfFile }, { parseReportTime }, { REPORT_TYPES }, { checkTimeZone }] = await Promise.all([
    import('../reports/formats/index.js'),
    import('../reports/time-input.js'),
    import('../reports/types.js'),
    import('../reports/periods.js'),
  ]);
  let request: ReportRequest;
  let format: ReportFormat;
  try {
    if (!o.config === !o.db) throw new UsageError("give --config FILE (the daemon's config) or --db FILE (a SQLite history file), one of them");
    const type = o.type ?? 'summary';
    const found = REPORT_TYPES.find((t): t is ReportType => t === type);
    if (!found) throw new UsageError(`type: "${type}" is not a report type (use ${REPORT_TYPES.join(', ')})`);
    const inferred = o.out ? formatOfFile(o.out) : undefined;
    if (o.format) format = parseFormat(o.format);
    else if (inferred) format = inferred;
    else if (o.out)
      throw new UsageError(`format: cannot tell it from "${o.out}" (give --format json|html|csv|markdown|xlsx, or an .html/.json/.csv/.zip/.md/.xlsx file)`);
    else format = 'json';
    if (o.out && inferred && inferred !== format) say(`note: writing ${format} to ${o.out} (its extension says ${inferred})`);
    const tz = o.tz ?? 'UTC';
    checkTimeZone(tz);
    const now = Math.floor(io.clock.now());
    const g = o.granularity ?? 'auto';
    if (g !== 'auto' && g !== 'minute' && g !== 'hour' && g !== 'day') throw new UsageError(`granularity: "${g}" is not one of auto, minute, hour, day`);
    const slo = o.slo === undefined ? undefined : Number(o.slo) > 1 ? Number(o.slo) / 100 : Number(o.slo);
    request = {
      type: found,
      from: parseReportTime(o.from ?? '30d', now, 'from', tz),
      to: parseReportTime(o.to ?? 'now', now, 'to', tz),
      timeZone: tz,
      services: list(o.service),
      tags: list(o.tag),
      zones: list(o.zone),
      granularity: g,
      ...(slo !== undefined ? { sloObjective: slo } : {}),
    };
  } catch (err) {
    if (!isUsageError(err)) throw err;
    say(err.message);
    return 2;
  }

  let config: Config | undefined;
  let path: string;
  try {
    if (o.config) {
      config = await loadConfigFile(o.config);
      if (config.storage.backend !== 'sqlite' || config.storage.path === ':memory:') {
        say(`${o.config}: storage keeps no file to report on (storage.path is ${config.storage.path})`);
        return 1;
      }
      path = config.storage.path;
    } else path = o.db!;
  } catch (err) {
    if (!isConfigError(err)) throw err;
    say(err.message);
    return 1;
  }
  if (!existsSync(path)) {
    say(`${o.config ? 'storage.path' : 'db'}: no history file at ${path}`);
    return 1;
  }

  const [{ openSqliteStore }, { sqliteReportSource }, { prepareReport }] = await Promise.all([
    import('../store/sqlite.js'),
    import('../reports/sqlite-source.js'),
    import('../reports/generate.js'),
  ]);
  // A report reads sequentially: a small page cache does as well and keeps the process small.
  const store = await openSqliteStore({ path, checkpoints: 'inline', cacheSizeMb: 8 });
  const opened = await sqliteReportSource(store, config);
  const progress = o.quiet ? undefined : await progressReporter(io);
  const tmp = o.out ? `${o.out}.partial` : undefined;
  try {
    const prepared = await prepareReport({
      source: opened.source,
      request,
      format,
      now: Math.floor(io.clock.now()),
      ...(progress ? { progress: progress.listener } : {}),
      // Written once, then only its counts are read: rows may go as they are written.
      render: { consumeRows: true, ...(o.table ? { table: o.table } : {}) },
    });
    progress?.stop();
    if (tmp) {
      // Written beside the target and renamed: a failed run never leaves half a report under the name.
      await prepared.write(createWriteStream(tmp, { mode: 0o600 })); // reports hold service names, outputs and errors: owner only
      renameSync(tmp, o.out!);
      say(`wrote ${o.out} (${prepared.document.type}, ${format}, ${prepared.document.tables.reduce((n, t) => n + t.rows.length, 0)} rows)`);
    } else {
      await prepared.write(unclosing(io.stdout));
    }
    return 0;
  } catch (err) {
    progress?.stop();
    if (tmp) rmSync(tmp, { force: true });
    if (isUsageError(err)) {
      say(err.message);
      return 2;
    }
    say(`failed: ${(err as Error).message}`);
    return 1;
  } finally {
    await opened.close();
    await store.close();
  }
}

/** A progress bar on a terminal, JSON lines otherwise. */
async function progressReporter(io: ReportCommandIo): Promise<{ listener: ProgressListener; stop(): void }> {
  if (io.stderr.isTTY) {
    const { SingleBar, Presets } = (await import('cli-progress')).default;
    const bar = new SingleBar(
      { stream: io.stderr, format: '{stage} [{bar}] {value}/{total} {percentage}% eta {eta_formatted}', hideCursor: true, clearOnComplete: true },
      Presets.shades_classic,
    );
    let stage = '';
    let started = false;
    return {
      listener(p) {
        if (!started || p.stage !== stage) {
          if (started) bar.stop();
          bar.start(Math.max(1, p.total), p.done, { stage: p.stage });
          stage = p.stage;
          started = true;
        } else bar.update(p.done);
      },
      stop: () => started && bar.stop(),
    };
  }
  let last = '';
  let lastAt = -Infinity;
  return {
    listener(p) {
      // At most one line a stage step of 5 %, plus each stage's end: logs stay short.
      const pct = p.total ? Math.floor((p.done / p.total) * 20) : 0;
      const key = `${p.stage}:${pct}`;
      const now = io.clock.now();
      if (key === last && p.done !== p.total) return;
      if (key === last && now - lastAt < 1000) return;
      last = key;
      lastAt = now;
      io.stderr.write(`${JSON.stringify({ progress: { stage: p.stage, done: p.done, total: p.total } })}\n`);
    },
    stop: () => undefined,
  };
}

/** A stream that writes into `target` and finishes without ending it (stdout stays open). */
function unclosing(target: Writable): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (target.write(chunk)) cb();
      else target.once('drain', () => cb());
    },
  });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Add `report` to the program. */
export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('write a report of the stored history: summary, detailed, metrics, alerts or trends, as json, html, csv, markdown or xlsx')
    .option('-c, --config <file>', 'config file (its storage.path is read; tags, zones and maintenance windows come from it)')
    .option('--db <file>', 'SQLite history file (instead of --config)')
    .option('-t, --type <type>', 'summary | detailed | metrics | alerts | trends', 'summary')
    .option('-f, --format <format>', 'json | html | csv | markdown | xlsx (default: from --out, else json)')
    .option('--from <time>', 'start: a duration back from now (30d, 12h), a date (2026-11-01), a date-time or epoch ms', '30d')
    .option('--to <time>', 'end (exclusive), same forms as --from', 'now')
    .option('--tz <zone>', 'IANA time zone for shown times and day periods', 'UTC')
    .option('-s, --service <name>', 'only this service (repeatable, or comma-separated)', collect, [])
    .option('--tag <tag>', 'only instances with this tag (repeatable)', collect, [])
    .option('--zone <zone>', 'only instances in this zone (repeatable)', collect, [])
    .option('-g, --granularity <g>', 'auto | minute | hour | day', 'auto')
    .option('--slo <objective>', 'availability objective for the summary, e.g. 99.9 or 0.999', '99.9')
    .option('--table <id>', 'csv: write only this table instead of a zip of all tables')
    .option('-o, --out <file>', 'write here (default: stdout)')
    .option('-q, --quiet', 'no progress on stderr')
    .action(async (o: ReportCommandOptions) => {
      process.exitCode = await runReportCommand(o, { stdout: process.stdout, stderr: process.stderr, clock: realClock });
    });
}
