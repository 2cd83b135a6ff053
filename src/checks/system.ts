import { close as fsClose, open as fsOpen, read as fsRead, readFileSync, statfs as fsStatfs } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { CheckFactory, CheckRunner, CheckSpec, RunContext } from '../core/check.js';
import { outcome, type ProbeOutcome } from '../core/result.js';
import type { SystemCheckConfig } from '../config/kinds/system.js';
import { describeError } from './errors.js';
import { sanitizeLabel } from './nagios.js';
import { armDelayMs, LazyAbortProbe } from './probe-support.js';

/**
 * system check: CPU, memory, load and disk use of the machine the daemon
 * runs on, from /proc (Linux) and statfs(2), each against optional
 * warn/critical thresholds.
 *
 * - cpu: busy share of all CPUs between two runs, from the first line of
 *   /proc/stat (busy = user+nice+system+irq+softirq+steal, idle+iowait
 *   idle). The factory reads /proc/stat once, synchronously (~1.5 KB), as the
 *   baseline, so the first run already measures "since construction" and
 *   never sleeps. When no clock tick passed since the previous sample (runs
 *   closer than ~10 ms) the previous figure is repeated, or for the first run
 *   the since-boot figure is used.
 * - memory: 1 - MemAvailable/MemTotal from /proc/meminfo.
 * - load: 1-minute load from /proc/loadavg, divided by the CPU count when
 *   `per_cpu`.
 * - disk: used share as df shows it, (blocks - bfree) / (blocks - bfree + bavail).
 *
 * All reads of a run go out at once through libuv's thread pool (nothing
 * blocks the event loop). /proc files are opened once and re-read with
 * fs.read at position 0 into a preallocated buffer: bench/system measured
 * ~160 µs CPU a run for cpu+memory+load+disk, against ~540 µs with
 * fs.promises.readFile (open/fstat/read/close per file). A statfs that hangs
 * (dead network mount) is never issued twice at once: later runs share the
 * pending one, so a stuck mount cannot eat the thread pool; a run still ends
 * with `timeout` at its abort.
 */

/** Raw statfs(2) figures, counts of blocks of `bsize` bytes. */
export interface StatfsReading {
  blocks: number;
  bfree: number;
  bavail: number;
  bsize: number;
}

/** Where the check reads from; the real one is /proc, tests inject text. */
export interface SystemSource {
  /** /proc/stat (at least its first line). */
  stat(): Promise<string>;
  /** /proc/stat, synchronously: only for the baseline taken at construction. */
  statSync(): string;
  /** /proc/meminfo (at least up to MemAvailable). */
  meminfo(): Promise<string>;
  /** /proc/loadavg. */
  loadavg(): Promise<string>;
  statfs(path: string): Promise<StatfsReading>;
  /** CPUs the load is shared by. */
  cpuCount(): number;
  close(): Promise<void>;
}

/** Cumulative CPU time counters (clock ticks) from /proc/stat. */
export interface CpuTimes {
  busy: number;
  total: number;
}

/** Parses the aggregate `cpu` line of /proc/stat. */
export function parseCpuTimes(text: string): CpuTimes | undefined {
  if (!text.startsWith('cpu ')) return undefined;
  // user nice system idle iowait irq softirq steal (guest time is already inside user/nice)
  const f = [0, 0, 0, 0, 0, 0, 0, 0];
  let n = 0;
  let i = 4;
  const len = text.length;
  while (n < 8 && i < len) {
    let c = text.charCodeAt(i);
    if (c === 10) break;
    if (c === 32) {
      i++;
      continue;
    }
    let v = 0;
    let digits = 0;
    while (c >= 48 && c <= 57) {
      v = v * 10 + (c - 48);
      digits++;
      c = text.charCodeAt(++i);
    }
    if (digits === 0 || !(c === 32 || c === 10 || i >= len)) return undefined;
    f[n++] = v;
  }
  if (n < 4) return undefined;
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

/** Busy share between two samples; undefined when no tick passed. */
export function cpuBusyBetween(prev: CpuTimes, cur: CpuTimes): number | undefined {
  const total = cur.total - prev.total;
  if (!(total > 0)) return undefined;
  return clamp01((cur.busy - prev.busy) / total);
}

/** Memory figures in bytes from /proc/meminfo. */
export interface MemoryReading {
  totalBytes: number;
  availableBytes: number;
  /** 1 - available/total. */
  used: number;
}

const MEMINFO_VALUE_RE = /^:\s+(\d+)/;

/** Parses /proc/meminfo; without MemAvailable (kernels < 3.14) uses MemFree + Buffers + Cached. */
export function parseMeminfo(text: string): MemoryReading | undefined {
  const kb = (name: string): number | undefined => {
    let at = 0;
    if (!text.startsWith(name)) {
      at = text.indexOf(`\n${name}`) + 1;
      if (at === 0) return undefined;
    }
    const m = MEMINFO_VALUE_RE.exec(text.slice(at + name.length, at + name.length + 32));
    return m === null ? undefined : Number(m[1]) * 1024;
  };
  const total = kb('MemTotal');
  if (total === undefined || total <= 0) return undefined;
  let available = kb('MemAvailable');
  if (available === undefined) {
    const free = kb('MemFree');
    if (free === undefined) return undefined;
    available = free + (kb('Buffers') ?? 0) + (kb('Cached') ?? 0);
  }
  return { totalBytes: total, availableBytes: available, used: clamp01(1 - available / total) };
}

/** Load averages from /proc/loadavg. */
export interface LoadReading {
  load1: number;
  load5: number;
  load15: number;
}

/** Parses the three load averages at the start of /proc/loadavg. */
export function parseLoadavg(text: string): LoadReading | undefined {
  const [a, b, c] = text.trim().split(/\s+/, 3).map(Number);
  if (a === undefined || b === undefined || c === undefined || ![a, b, c].every(Number.isFinite)) return undefined;
  return { load1: a, load5: b, load15: c };
}

/** Disk use as df computes it. */
export interface DiskReading {
  /** Used share for unprivileged users: used / (used + available). */
  used: number;
  availBytes: number;
  sizeBytes: number;
}

/** Used share and sizes of a filesystem from its statfs figures. */
export function diskUsage(s: StatfsReading): DiskReading {
  const usedBlocks = s.blocks - s.bfree;
  const denom = usedBlocks + s.bavail;
  return {
    used: denom > 0 ? clamp01(usedBlocks / denom) : 0,
    availBytes: s.bavail * s.bsize,
    sizeBytes: s.blocks * s.bsize,
  };
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

/** One judged figure. */
interface Measure {
  /** How it is named in output: `cpu`, `memory`, `load1`, `disk /var`. */
  label: string;
  value: number;
  /** `%` values are shares shown as percentages. */
  percent: boolean;
  warn: number | undefined;
  critical: number | undefined;
}

/** Everything one run measured; absent resources are not configured. */
export interface SystemReadings {
  cpuBusy?: number;
  memory?: MemoryReading;
  load?: LoadReading;
  disks: { path: string; reading: DiskReading }[];
}

/** A disk to watch, its metric key fixed once. */
interface DiskPlan {
  path: string;
  key: string;
  warn: number | undefined;
  critical: number | undefined;
}

/** What one system check needs per run. */
export interface SystemPlan {
  cpu: { warn: number | undefined; critical: number | undefined } | undefined;
  memory: { warn: number | undefined; critical: number | undefined } | undefined;
  load: { warn: number | undefined; critical: number | undefined; perCpu: boolean } | undefined;
  disks: DiskPlan[];
  cpus: number;
}

/** The plan of a config: disk metric keys made unique (`disk_used_root`, `disk_used_var_log`). */
export function systemPlan(c: SystemCheckConfig, cpus: number): SystemPlan {
  const r = c.resources;
  const seen = new Set<string>();
  const disks = (r.disk ?? []).map((d) => {
    const base = sanitizeLabel(d.path);
    let key = base;
    for (let k = 2; seen.has(key); k++) key = `${base}_${k}`;
    seen.add(key);
    return { path: d.path, key, warn: d.warn, critical: d.critical };
  });
  return {
    cpu: r.cpu && { warn: r.cpu.warn, critical: r.cpu.critical },
    memory: r.memory && { warn: r.memory.warn, critical: r.memory.critical },
    load: r.load && { warn: r.load.warn, critical: r.load.critical, perCpu: r.load.per_cpu },
    disks,
    cpus: Math.max(1, cpus),
  };
}

/**
 * The result for one set of readings: a figure at or over its critical
 * threshold → UNHEALTHY `threshold_critical`, at or over warn → DEGRADED
 * `threshold_warning`; the output names those figures first. Every figure
 * goes into the metrics. Pure.
 */
export function judgeSystem(plan: SystemPlan, readings: SystemReadings): ProbeOutcome {
  const metrics: Record<string, number> = {};
  const measures: Measure[] = [];
  if (plan.cpu !== undefined && readings.cpuBusy !== undefined) {
    metrics.cpu_busy = readings.cpuBusy;
    measures.push({ label: 'cpu', value: readings.cpuBusy, percent: true, ...plan.cpu });
  }
  if (plan.memory !== undefined && readings.memory !== undefined) {
    const m = readings.memory;
    metrics.memory_used = m.used;
    metrics.memory_total_bytes = m.totalBytes;
    metrics.memory_available_bytes = m.availableBytes;
    measures.push({ label: 'memory', value: m.used, percent: true, ...plan.memory });
  }
  if (plan.load !== undefined && readings.load !== undefined) {
    const l = readings.load;
    const perCpu = l.load1 / plan.cpus;
    metrics.load1 = l.load1;
    metrics.load5 = l.load5;
    metrics.load15 = l.load15;
    metrics.load1_per_cpu = perCpu;
    metrics.cpus = plan.cpus;
    const { warn, critical, perCpu: divide } = plan.load;
    measures.push({ label: divide ? 'load1/cpu' : 'load1', value: divide ? perCpu : l.load1, percent: false, warn, critical });
  }
  for (let i = 0; i < plan.disks.length; i++) {
    const d = plan.disks[i] as DiskPlan;
    const r = readings.disks[i];
    if (r === undefined) continue;
    metrics[`disk_used_${d.key}`] = r.reading.used;
    metrics[`disk_avail_bytes_${d.key}`] = r.reading.availBytes;
    measures.push({ label: `disk ${d.path}`, value: r.reading.used, percent: true, warn: d.warn, critical: d.critical });
  }

  const critical: string[] = [];
  const warning: string[] = [];
  for (const m of measures) {
    if (m.critical !== undefined && m.value >= m.critical) critical.push(`${show(m)} ≥ ${limit(m, m.critical)}`);
    else if (m.warn !== undefined && m.value >= m.warn) warning.push(`${show(m)} ≥ ${limit(m, m.warn)}`);
  }
  if (critical.length > 0) {
    const more = warning.length > 0 ? `; warning: ${warning.join(', ')}` : '';
    return outcome.unhealthy('threshold_critical', `critical: ${critical.join(', ')}${more}`, metrics);
  }
  if (warning.length > 0) return outcome.degraded('threshold_warning', `warning: ${warning.join(', ')}`, metrics);
  return outcome.healthy(measures.map(show).join(', '), metrics);
}

function show(m: Measure): string {
  return `${m.label} ${m.percent ? pct(m.value) : round2(m.value)}`;
}

function limit(m: Measure, x: number): string {
  return m.percent ? pct(x) : String(round2(x));
}

function pct(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** A /proc file kept open (raw fd) and re-read from offset 0 into one preallocated buffer. */
class ProcFile {
  private fd = -1;
  private closed = false;
  private pending: Promise<string> | null = null;
  private resolve: (text: string) => void = noop;
  private reject: (err: unknown) => void = noop;
  private readonly buf: Buffer;
  private readonly executor = (resolve: (text: string) => void, reject: (err: unknown) => void): void => {
    this.resolve = resolve;
    this.reject = reject;
  };

  constructor(
    readonly path: string,
    size: number,
    /** Stop decoding at the first newline (only the first line is used). */
    private readonly firstLineOnly: boolean,
  ) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** The file's text (up to the buffer size). Concurrent callers share one read. */
  read(): Promise<string> {
    if (this.pending !== null) return this.pending;
    if (this.closed) return Promise.reject(new Error(`${this.path}: closed`));
    const p = new Promise<string>(this.executor);
    this.pending = p;
    if (this.fd < 0) fsOpen(this.path, 'r', this.onOpen);
    else this.readNow();
    return p;
  }

  private readNow(): void {
    // procfs regenerates the content on a read at offset 0; one read returns at least the first records.
    fsRead(this.fd, this.buf, 0, this.buf.length, 0, this.onRead);
  }

  private readonly onOpen = (err: NodeJS.ErrnoException | null, fd: number): void => {
    if (err !== null) {
      this.fail(err);
      return;
    }
    if (this.closed) {
      fsClose(fd, noop);
      this.fail(new Error(`${this.path}: closed`));
      return;
    }
    this.fd = fd;
    this.readNow();
  };

  private readonly onRead = (err: NodeJS.ErrnoException | null, bytesRead: number): void => {
    if (err !== null) {
      this.fail(err);
      return;
    }
    let end = bytesRead;
    if (this.firstLineOnly) {
      const nl = this.buf.indexOf(10);
      if (nl >= 0 && nl < bytesRead) end = nl;
    }
    const resolve = this.resolve;
    this.settled();
    resolve(this.buf.toString('latin1', 0, end));
  };

  private fail(err: unknown): void {
    const reject = this.reject;
    this.settled();
    reject(err);
  }

  private settled(): void {
    this.pending = null;
    this.resolve = noop;
    this.reject = noop;
  }

  /** Closes the fd once no read is in flight (a read never outlives the close). */
  close(): Promise<void> {
    this.closed = true;
    const closeFd = (): Promise<void> =>
      new Promise((r) => {
        const fd = this.fd;
        this.fd = -1;
        if (fd < 0) return r();
        fsClose(fd, () => r());
      });
    const pending = this.pending;
    return pending === null ? closeFd() : pending.then(closeFd, closeFd);
  }
}

function noop(): void {}

/** The real source: /proc files held open, statfs(2) through libuv. */
export class ProcSource implements SystemSource {
  private readonly statFile = new ProcFile('/proc/stat', 4096, true);
  private readonly memFile = new ProcFile('/proc/meminfo', 1024, false);
  private readonly loadFile = new ProcFile('/proc/loadavg', 256, false);
  /** statfs calls in flight by path: a hung mount is asked once, not once per run. */
  private readonly statfsPending = new Map<string, Promise<StatfsReading>>();
  private readonly cpus = availableParallelism();

  stat(): Promise<string> {
    return this.statFile.read();
  }
  statSync(): string {
    return readFileSync('/proc/stat', 'latin1');
  }
  meminfo(): Promise<string> {
    return this.memFile.read();
  }
  loadavg(): Promise<string> {
    return this.loadFile.read();
  }
  statfs(path: string): Promise<StatfsReading> {
    let p = this.statfsPending.get(path);
    if (p === undefined) {
      p = new Promise<StatfsReading>((resolve, reject) => {
        fsStatfs(path, (err, stats) => {
          this.statfsPending.delete(path);
          if (err !== null) reject(err);
          else resolve(stats);
        });
      });
      this.statfsPending.set(path, p);
    }
    return p;
  }
  cpuCount(): number {
    return this.cpus;
  }
  async close(): Promise<void> {
    await Promise.all([this.statFile.close(), this.memFile.close(), this.loadFile.close()]);
  }
}

/** Builds a system runner reading the real /proc; close() closes the held files. */
export const systemCheck: CheckFactory<SystemCheckConfig> = (spec) => createSystemCheck(spec, new ProcSource());

/** A system runner over any source (tests pass fixture text). */
export function createSystemCheck(spec: CheckSpec<SystemCheckConfig>, source: SystemSource): CheckRunner {
  return new SystemCheckRunner(systemPlan(spec.config, source.cpuCount()), source, armDelayMs(spec.timeoutMs));
}

class SystemCheckRunner implements CheckRunner {
  private prevCpu: CpuTimes | undefined;
  private lastBusy: number | undefined;
  /** Bound once: turns the raw reads of a run into its result. */
  readonly judge = (raw: (string | StatfsReading)[]): ProbeOutcome => judgeSystem(this.plan, this.readings(raw));

  constructor(
    readonly plan: SystemPlan,
    private readonly source: SystemSource,
    /** How long a run goes before it listens to its AbortSignal, ms. */
    readonly armDelayMs: number,
  ) {
    if (plan.cpu !== undefined) {
      try {
        this.prevCpu = parseCpuTimes(source.statSync());
      } catch {
        // No baseline: the first run uses the since-boot figure.
      }
    }
  }

  run(ctx: RunContext): Promise<ProbeOutcome> {
    return new Promise<ProbeOutcome>((resolve) => new SystemProbe(this, ctx, resolve).start());
  }

  /** Every configured read, started at once, in plan order: stat, meminfo, loadavg, then the disks. */
  reads(): Promise<(string | StatfsReading)[]> {
    const plan = this.plan;
    const src = this.source;
    const all: Promise<string | StatfsReading>[] = [];
    if (plan.cpu !== undefined) all.push(src.stat());
    if (plan.memory !== undefined) all.push(src.meminfo());
    if (plan.load !== undefined) all.push(src.loadavg());
    for (const d of plan.disks) all.push(src.statfs(d.path));
    return Promise.all(all);
  }

  private readings(raw: (string | StatfsReading)[]): SystemReadings {
    const plan = this.plan;
    let i = 0;
    const readings: SystemReadings = { disks: [] };
    if (plan.cpu !== undefined) readings.cpuBusy = this.cpuBusy(raw[i++] as string);
    if (plan.memory !== undefined) readings.memory = need(parseMeminfo(raw[i++] as string), '/proc/meminfo');
    if (plan.load !== undefined) readings.load = need(parseLoadavg(raw[i++] as string), '/proc/loadavg');
    for (const d of plan.disks) readings.disks.push({ path: d.path, reading: diskUsage(raw[i++] as StatfsReading) });
    return readings;
  }

  private cpuBusy(statText: string): number {
    const cur = need(parseCpuTimes(statText), '/proc/stat');
    const prev = this.prevCpu;
    const busy = prev !== undefined ? cpuBusyBetween(prev, cur) : undefined;
    if (busy !== undefined) {
      this.prevCpu = cur;
      this.lastBusy = busy;
      return busy;
    }
    if (prev === undefined) this.prevCpu = cur;
    // No tick since the previous sample: repeat the last figure, or since boot.
    return this.lastBusy ?? (cur.total > 0 ? clamp01(cur.busy / cur.total) : 0);
  }

  close(): Promise<void> {
    return this.source.close();
  }
}

/**
 * One run: waits for the reads or the abort, whichever comes first; also the
 * AbortSignal listener. Like the tcp and http probes it looks at ctx.signal
 * only once it has run for `armDelayMs` (a run normally ends in ~0.2 ms),
 * so the scheduler never has to create the run's AbortController.
 */
class SystemProbe extends LazyAbortProbe {
  constructor(
    private readonly runner: SystemCheckRunner,
    ctx: RunContext,
    private readonly resolve: (o: ProbeOutcome) => void,
  ) {
    super(ctx);
  }

  start(): void {
    this.armLater(this.runner.armDelayMs);
    let reads: Promise<(string | StatfsReading)[]>;
    try {
      reads = this.runner.reads();
    } catch (err) {
      this.failed(err);
      return;
    }
    reads.then(this.read, this.failed);
  }

  /** AbortSignal listener: a read hangs (a dead mount); the read settles later, unobserved. */
  override handleEvent(): void {
    this.finish(outcome.unhealthy('timeout', 'timed out reading system figures (a mount not answering?)'));
  }

  private readonly read = (raw: (string | StatfsReading)[]): void => {
    if (this.done) return;
    let result: ProbeOutcome;
    try {
      result = this.runner.judge(raw);
    } catch (err) {
      result = outcome.unknown('error', describeError(err));
    }
    this.finish(result);
  };

  private readonly failed = (err: unknown): void => {
    this.finish(outcome.unknown('error', `cannot read system figures: ${describeError(err)}`));
  };

  private finish(result: ProbeOutcome): void {
    if (this.done) return;
    this.done = true;
    this.disarm();
    this.resolve(result);
  }
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`cannot parse ${what}`);
  return value;
}
