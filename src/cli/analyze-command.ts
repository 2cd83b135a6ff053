/**
 * `healthmesh analyze --input FILE.csv --mode anomaly|trend|forecast
 * [--threshold X] [--json] [--better lower|higher]`: the daemon's analysis
 * run offline on a CSV of timestamp,value rows (src/analysis/csv-input.ts).
 *
 * - anomaly: streams `timestamp,value,score,anomaly` to stdout, one row per
 *   input row, memory flat in the file's length;
 * - trend / forecast: reads the whole file into at most 256 evenly spaced
 *   bucket means (Downsampler) and prints a short summary, or JSON.
 * Bad rows are reported on stderr with their line number (the first 20, then
 * a count), skipped, and make the exit code 1; usage errors exit 2.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import type { Row, RowError } from '../analysis/csv-input.js';
import type { ForecastAnswer } from '../analysis/forecast.js';
import type { Polarity, TrendAnswer } from '../analysis/trend.js';

/**
 * The analysis modules, loaded when `analyze` runs: cli.ts imports this file
 * for every command, and `check` (a Nagios plugin, run often) should not pay
 * the ~140 ms they take to load.
 */
async function analysis() {
  const [{ RobustDetector }, { isRowError, RowParser }, { forecastOf }, { Downsampler }, { trendOf }] = await Promise.all([
    import('../analysis/anomaly/robust.js'),
    import('../analysis/csv-input.js'),
    import('../analysis/forecast.js'),
    import('../analysis/stats/downsampler.js'),
    import('../analysis/trend.js'),
  ]);
  return { RobustDetector, isRowError, RowParser, forecastOf, Downsampler, trendOf };
}
type Analysis = Awaited<ReturnType<typeof analysis>>;

type Mode = 'anomaly' | 'trend' | 'forecast';
const MODES: readonly Mode[] = ['anomaly', 'trend', 'forecast'];
const MAX_REPORTED = 20;

interface AnalyzeOptions {
  input?: string;
  mode?: string;
  threshold?: string;
  json?: boolean;
  better?: string;
}

/** Add `analyze` to the program. */
export function registerAnalyzeCommand(program: Command): void {
  program
    .command('analyze')
    .description('analyze a CSV of timestamp,value rows: anomaly scores per row, the trend, or when it crosses a threshold')
    .requiredOption('-i, --input <file>', 'CSV file: a header row, then timestamp,value rows in time order')
    .requiredOption('-m, --mode <mode>', 'anomaly | trend | forecast')
    .option('-t, --threshold <x>', 'forecast: the value whose crossing to date')
    .option('--better <direction>', 'trend: which way is better, lower (latency, errors) or higher (scores)', 'lower')
    .option('--json', 'trend/forecast: print JSON')
    .action(analyzeCommand);
}

async function analyzeCommand(options: AnalyzeOptions): Promise<void> {
  const mode = options.mode as Mode;
  if (!MODES.includes(mode)) return usage(`--mode must be one of ${MODES.join(', ')}, got ${JSON.stringify(options.mode)}`);
  if (options.better !== 'lower' && options.better !== 'higher') return usage(`--better must be lower or higher, got ${JSON.stringify(options.better)}`);
  let threshold: number | undefined;
  if (options.threshold !== undefined) {
    threshold = Number(options.threshold);
    if (options.threshold.trim() === '' || !Number.isFinite(threshold)) return usage(`--threshold must be a number, got ${JSON.stringify(options.threshold)}`);
  }
  if (mode === 'forecast' && threshold === undefined) return usage('--mode forecast needs --threshold X (the value whose crossing to date)');
  const file = options.input!;
  const errors = new ErrorReport(file);
  const a = await analysis();
  const rows = readRows(a, file, errors);
  try {
    if (mode === 'anomaly') await streamAnomalies(a, rows);
    else
      await summarize(a, rows, mode, {
        threshold,
        json: options.json === true,
        polarity: options.better === 'higher' ? 'higher_is_better' : 'lower_is_better',
        file,
      });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
      process.stderr.write(`healthmesh analyze: cannot read ${file}: ${(err as Error).message}\n`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
  errors.finish();
}

function usage(message: string): void {
  process.stderr.write(`healthmesh analyze: ${message}\n`);
  process.exitCode = 2;
}

/** Bad rows: the first 20 on stderr as they come, a count at the end, exit code 1. */
class ErrorReport {
  count = 0;
  constructor(private readonly file: string) {}

  add(e: RowError): void {
    if (++this.count <= MAX_REPORTED) process.stderr.write(`${this.file}:${e.line}: ${e.message}\n`);
  }

  finish(): void {
    if (this.count === 0) return;
    if (this.count > MAX_REPORTED) process.stderr.write(`${this.file}: ${this.count - MAX_REPORTED} more bad rows not shown\n`);
    process.stderr.write(`${this.file}: ${this.count} bad row${this.count === 1 ? '' : 's'} skipped\n`);
    process.exitCode = 1;
  }
}

/** The file's data rows in order, bad ones reported and skipped; the first line is the header. */
async function* readRows({ RowParser, isRowError }: Analysis, file: string, errors: ErrorReport): AsyncGenerator<Row> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
  const parser = new RowParser();
  let line = 0;
  let header = true;
  for await (const text of lines) {
    line++;
    if (header) {
      header = false;
      // A first line that reads as data means the header is missing: say so rather than drop a point silently.
      const asData = new RowParser().next(text, line);
      if (asData !== null && !isRowError(asData)) errors.add({ line, message: 'expected a header row (e.g. timestamp,value) before the data' });
      continue;
    }
    const r = parser.next(text, line);
    if (r === null) continue;
    if (isRowError(r)) errors.add(r);
    else yield r;
  }
}

/** Writes through a buffer, waiting for stdout to drain so memory stays flat. */
async function streamAnomalies({ RobustDetector }: Analysis, rows: AsyncGenerator<Row>): Promise<void> {
  const detector = new RobustDetector();
  let out = 'timestamp,value,score,anomaly\n';
  for await (const r of rows) {
    const score = detector.observe(r.t, r.value);
    out += `${r.rawTime},${r.rawValue},${score.toFixed(4)},${score >= detector.flagScore ? 1 : 0}\n`;
    if (out.length >= 1 << 16) {
      if (!process.stdout.write(out)) await new Promise((resolve) => process.stdout.once('drain', resolve));
      out = '';
    }
  }
  process.stdout.write(out);
}

interface SummaryOptions {
  threshold: number | undefined;
  json: boolean;
  polarity: Polarity;
  file: string;
}

async function summarize(
  { Downsampler, trendOf, forecastOf }: Analysis,
  rows: AsyncGenerator<Row>,
  mode: 'trend' | 'forecast',
  options: SummaryOptions,
): Promise<void> {
  const down = new Downsampler(256);
  const deltas: number[] = [];
  let interval = Number.NaN;
  let gaps = 0;
  let count = 0;
  let first = Number.NaN;
  let last = Number.NaN;
  for await (const r of rows) {
    if (count === 0) first = r.t;
    else {
      const dt = r.t - last;
      // The sampling interval is the median of the first 1,000 steps; a step over 1.5 × it is a gap.
      if (deltas.length < 1000) {
        deltas.push(dt);
        if (deltas.length === 1000) interval = medianOf(deltas);
      } else if (dt > 1.5 * interval) gaps++;
    }
    last = r.t;
    count++;
    down.add(r.t, r.value);
  }
  if (deltas.length > 0 && deltas.length < 1000) interval = medianOf(deltas);
  if (deltas.length < 1000) for (const dt of deltas) if (dt > 1.5 * interval) gaps++;
  const input = {
    file: options.file,
    rows: count,
    from: count ? first : null,
    to: count ? last : null,
    intervalMs: Number.isNaN(interval) ? null : interval,
    gaps,
  };
  const { t, y } = down.buckets();
  if (mode === 'trend') {
    const trend = trendOf(t, y, { polarity: options.polarity });
    if (options.json) process.stdout.write(`${JSON.stringify({ input, trend })}\n`);
    else process.stdout.write(`${inputLine(input)}\n${trendLine(trend, options.polarity)}\n`);
  } else {
    const forecast = forecastOf(t, y, { threshold: options.threshold! });
    if (options.json) process.stdout.write(`${JSON.stringify({ input, forecast })}\n`);
    else process.stdout.write(`${inputLine(input)}\n${forecastLine(forecast)}\n`);
  }
}

function medianOf(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function inputLine(i: { file: string; rows: number; from: number | null; to: number | null; intervalMs: number | null; gaps: number }): string {
  if (i.rows === 0) return `${i.file}: no data rows`;
  const every = i.intervalMs === null ? 'one row' : `every ${duration(i.intervalMs)}`;
  return `${i.file}: ${i.rows} rows, ${iso(i.from!)} → ${iso(i.to!)}, ${every}, ${i.gaps} gap${i.gaps === 1 ? '' : 's'}`;
}

function trendLine(a: TrendAnswer, polarity: Polarity): string {
  if (!a.ok) return `trend: none (${a.reason}: ${a.detail})`;
  const t = a.trend;
  const better = polarity === 'higher_is_better' ? 'higher is better' : 'lower is better';
  return (
    `trend: ${t.direction} (confidence ${t.confidence.toFixed(3)}, ${better}): slope ${signed(t.slopePerSecond * 3600)}/h, ` +
    `change ${signed(t.change)} over ${duration(t.spanMs)}, R² ${t.r2.toFixed(2)}, level ${num(t.level)}`
  );
}

function forecastLine(a: ForecastAnswer): string {
  if (!a.ok) return `forecast: none (${a.reason}: ${a.detail})`;
  const f = a.forecast;
  const model = `Holt α ${f.model.alpha} β ${num(f.model.beta)} φ ${f.model.phi}${f.model.damped ? ' (damped)' : ''}, σ ${num(f.model.sigma)}`;
  const head = `forecast: level ${num(f.level)}, slope ${signed(f.slopePerSecond * 3600)}/h; ${model}`;
  const c = f.crossing!;
  const pc = Math.round(f.coverage * 100);
  let crossing: string;
  if (c.already) crossing = `already past ${num(c.threshold)}`;
  else if (c.at === null)
    crossing = `does not cross ${num(c.threshold)} within ${duration(f.reachMs)}${c.earliest === null ? '' : ` (could from ${iso(c.earliest)}, ${pc}% interval)`}`;
  else
    crossing = `crosses ${num(c.threshold)} at ${iso(c.at)} (${pc}% interval: ${c.earliest === null ? '?' : iso(c.earliest)} … ${c.latest === null ? `beyond ${iso(f.from + f.reachMs)}` : iso(c.latest)})`;
  return `${head}\n${crossing}`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

function num(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toPrecision(4);
}

function signed(x: number): string {
  return `${x >= 0 ? '+' : ''}${num(x)}`;
}

function duration(ms: number): string {
  if (ms >= 86_400_000 && ms % 3_600_000 === 0) return `${+(ms / 86_400_000).toFixed(1)}d`;
  if (ms >= 3_600_000) return `${+(ms / 3_600_000).toFixed(1)}h`;
  if (ms >= 60_000) return `${+(ms / 60_000).toFixed(1)}m`;
  if (ms >= 1000) return `${+(ms / 1000).toFixed(1)}s`;
  return `${ms}ms`;
}
