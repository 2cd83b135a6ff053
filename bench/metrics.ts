/**
 * bench/metrics: what healthmesh's metrics cost, and the figures behind how
 * they are built (README: Metrics). Prints one JSON line.
 *
 * - perResult: ns per check result of the hand-made numeric cells used before
 *   (a faithful copy below) against prom-client Counter/Histogram children
 *   bound once per service × kind (src/metrics/result-counters.ts), each as a
 *   share of a reused-connection HTTP probe's CPU.
 * - perProxyAttempt: ns per proxied attempt (start + end) of the hand-made
 *   per-service buckets the proxy used before (a faithful copy below)
 *   against src/proxy/metrics.ts' prom-client Histogram child bound per
 *   service, each as a share of a lean-engine request's CPU (bench/proxy).
 * - lagWindow: ns per scheduler start of a prom-client Summary with a sliding
 *   window (maxAgeSeconds/ageBuckets) against the scheduler's
 *   SlidingLatencyHistogram.
 * - scrape at 10 000 and 100 000 checks: CPU ms, longest event-loop stall, bytes and series of the whole
 *   /metrics of createMetrics (the engine's families), and for
 *   healthmesh_check_status alone (4 series per check) two ways to build
 *   it: a Gauge with collect() + set() and the ComputedGauge (get() override)
 *   the code uses; with the heap each keeps between scrapes, and the scrape
 *   CPU spread over the probes between two scrapes. (The undocumented
 *   shared-labels collector used before is gone from src/; README: Metrics
 *   keeps its figures.)
 *
 * Variants alternate within each round (order rotated) and every figure is the
 * median of the rounds with its min and max; times are this process' CPU
 * time (process.cpuUsage), not wall time: the machine is shared.
 *
 *   npm run build && node --expose-gc dist/bench/metrics.js [--rounds 5] [--checks 10000,100000]
 *     [--probe-ms 0.026] [--request-ms 0.026] [--check-interval 10] [--scrape-interval 15]
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Gauge, Registry, Summary } from 'prom-client';
import { FakeClock } from '../src/core/clock.js';
import type { CheckSpec } from '../src/core/check.js';
import type { ResultEvent } from '../src/status/health-events.js';
import { LatencyHistogram, SlidingLatencyHistogram } from '../src/core/histogram.js';
import { seeded } from '../src/core/random.js';
import type { CheckResult, ProbeOutcome, Reason } from '../src/core/result.js';
import { ALL_STATUSES } from '../src/core/status.js';
import { tcpCheckSchema } from '../src/config/schema.js';
import { Engine } from '../src/engine.js';
import { createMetrics } from '../src/metrics/metrics.js';
import { CHECK_DURATION_BUCKETS_SECONDS, FAMILIES, MAX_REASONS_PER_GROUP, OTHER_REASON, PROXY_ATTEMPT_BUCKETS_SECONDS } from '../src/metrics/names.js';
import { ComputedGauge } from '../src/metrics/on-scrape.js';
import { Registrar } from '../src/metrics/registrar.js';
import { ResultCounters } from '../src/metrics/result-counters.js';
import { ProxyMetrics } from '../src/proxy/metrics.js';
import { initialState } from '../src/status/machine.js';
import { StatusRollup } from '../src/status/rollup.js';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    checks: { type: 'string', default: '10000,100000' },
    events: { type: 'string', default: '1000000' },
    'probe-ms': { type: 'string', default: '0.026' },
    'request-ms': { type: 'string', default: '0.026' },
    'check-interval': { type: 'string', default: '10' },
    'scrape-interval': { type: 'string', default: '15' },
  },
});
const rounds = Number(args.rounds);
const sizes = args.checks.split(',').map(Number);
const eventsPerRound = Number(args.events);
/** CPU of one reused-connection HTTP probe, ms: issue 20's bench/probes figure, equal to a bare undici loop. */
const probeMs = Number(args['probe-ms']);
/** CPU of one request through the proxy's lean engine at c32, ms (bench/proxy, issue 15). */
const requestMs = Number(args['request-ms']);
const checkIntervalS = Number(args['check-interval']);
const scrapeIntervalS = Number(args['scrape-interval']);

const gc = (globalThis as { gc?: () => void }).gc;
const heap = (): number => {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
};
const cpuMs = (from: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1000;
};

/** Median, min and max of a list of figures, to 3 decimals. */
function spread(xs: number[]): { median: number; min: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  const median = s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
  return { median: r3(median), min: r3(s[0]!), max: r3(s[s.length - 1]!) };
}
function r3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Run each variant once per round, rotating the order, and collect its figures. */
async function alternate<K extends string>(variants: Record<K, () => number | Promise<number>>): Promise<Record<K, number[]>> {
  const names = Object.keys(variants) as K[];
  const out = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<K, number[]>;
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(round + i) % names.length]!;
      out[name].push(await variants[name]());
    }
  }
  return out;
}

function spec(service: string, instance: string, name: string, kind: CheckSpec['kind']): CheckSpec {
  return {
    id: `${service}/${instance}/${name}`,
    name,
    kind,
    service,
    instance,
    address: '127.0.0.1:1',
    config: tcpCheckSchema.parse({ kind: 'tcp' }),
    intervalMs: checkIntervalS * 1000,
    timeoutMs: 2000,
    retries: 0,
    retryBackoffMs: 100,
    jitter: 0,
    rise: 1,
    fall: 1,
    unhealthyIntervalMs: checkIntervalS * 1000,
    edgeIntervalMs: checkIntervalS * 1000,
    flap: { window: 21, low: 0.05, high: 0.2 },
  };
}

// --- per result ---------------------------------------------------------------------

/**
 * The hand-made cells healthmesh counted results into before (src/metrics/
 * metrics.ts at 1aeac58, Group and ResultCounters): a Map lookup by spec,
 * then plain additions; the failure cell by reason, bounded as now.
 */
class CellGroup {
  runs = 0;
  sumMs = 0;
  readonly buckets = new Float64Array(CHECK_DURATION_BUCKETS_SECONDS.length + 1);
  private readonly byReason = new Map<string, { count: number }>();
  private codes = 0;
  private other: { count: number } | null = null;
  private static readonly BOUNDS_MS = CHECK_DURATION_BUCKETS_SECONDS.map((s) => Math.round(s * 1e6) / 1e3);

  record(result: CheckResult): void {
    this.runs++;
    let ms = result.durationMs;
    if (!(ms >= 0)) ms = 0;
    this.sumMs += ms;
    const bounds = CellGroup.BOUNDS_MS;
    let i = 0;
    while (i < bounds.length && ms > bounds[i]!) i++;
    this.buckets[i]!++;
    if (result.status !== 'HEALTHY') (this.byReason.get(result.reason) ?? this.cell(result.reason)).count++;
  }

  private cell(reason: string): { count: number } {
    let cell: { count: number };
    if (/^[a-z][a-z0-9_]{0,63}$/.test(reason) && reason !== OTHER_REASON && this.codes < MAX_REASONS_PER_GROUP) {
      cell = { count: 0 };
      this.codes++;
    } else {
      cell = this.other ??= { count: 0 };
    }
    if (this.byReason.size < 2 * MAX_REASONS_PER_GROUP) this.byReason.set(reason, cell);
    return cell;
  }
}

class CellCounters {
  private readonly groups = new Map<string, CellGroup>();
  private readonly groupOf = new Map<CheckSpec, CellGroup>();
  readonly onResult = (event: ResultEvent): void => {
    (this.groupOf.get(event.spec) ?? this.track(event.spec)).record(event.result);
  };
  track(s: CheckSpec): CellGroup {
    const key = `${s.service}\u0000${s.kind}`;
    let g = this.groups.get(key);
    if (!g) {
      g = new CellGroup();
      this.groups.set(key, g);
    }
    this.groupOf.set(s, g);
    return g;
  }
}

/** 1 000 checks over 50 services and two kinds; one result in ten fails, with one of four reasons. */
function resultEvents(): ResultEvent[] {
  const reasons: Reason[] = ['connect_refused', 'timeout', 'status_mismatch', 'tls'];
  const events: ResultEvent[] = [];
  for (let i = 0; i < 1000; i++) {
    const failed = i % 10 === 0;
    const result: CheckResult = {
      status: failed ? 'UNHEALTHY' : 'HEALTHY',
      reason: failed ? reasons[i % 4]! : 'ok',
      output: 'x',
      durationMs: (i % 200) * 3.7,
      observedAt: 0,
    };
    events.push({ spec: spec(`svc${i % 50}`, `i${i}`, 'probe', i % 3 ? 'http' : 'tcp'), result, state: initialState(0), transition: 'unchanged' });
  }
  return events;
}

async function perResult() {
  const events = resultEvents();
  const cells = new CellCounters();
  const children = new ResultCounters(new Registrar(new Registry(), () => {}));
  for (const e of events) {
    cells.track(e.spec);
    children.track(e.spec);
  }
  const loop = (listener: (e: ResultEvent) => void, n: number): number => {
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) listener(events[i % 1000]!);
    return (cpuMs(c0) * 1e6) / n;
  };
  loop(cells.onResult, 200_000); // warm both up before measuring either
  loop(children.onResult, 200_000);
  const ns = await alternate({
    cells: () => loop(cells.onResult, eventsPerRound),
    promClientChildren: () => loop(children.onResult, eventsPerRound),
  });
  const cellsNs = spread(ns.cells);
  const childrenNs = spread(ns.promClientChildren);
  const savedNs = childrenNs.median - cellsNs.median;
  return {
    nsPerResult: { cells: cellsNs, promClientChildren: childrenNs },
    cellsSaveNsPerResult: r3(savedNs),
    cellsSaveShareOfProbe: r3(savedNs / (probeMs * 1e6)),
  };
}

// --- per proxied attempt ---------------------------------------------------------------

/** The proxy's per-service attempt buckets before (src/proxy/metrics.ts at 53c1a19): counts only, read on scrape. */
class BucketCells {
  inFlight = 0;
  readonly codes = new Float64Array(5);
  count = 0;
  sumMs = 0;
  readonly buckets = new Float64Array(PROXY_ATTEMPT_BUCKETS_SECONDS.length + 1);
  private static readonly BOUNDS_MS = PROXY_ATTEMPT_BUCKETS_SECONDS.map((s) => s * 1000);
  start(): void {
    this.inFlight++;
  }
  end(code: number, ms: number): void {
    this.inFlight--;
    this.codes[code]!++;
    const d = ms >= 0 ? ms : 0;
    this.count++;
    this.sumMs += d;
    const bounds = BucketCells.BOUNDS_MS;
    let i = 0;
    while (i < bounds.length && d > bounds[i]!) i++;
    this.buckets[i]!++;
  }
}

async function perProxyAttempt() {
  const proxy = new ProxyMetrics();
  const now = [0, 1, 2].map((i) => proxy.service(`svc${i}`).instance('x'));
  const before = [0, 1, 2].map(() => new BucketCells());
  const ms = Array.from({ length: 1024 }, (_, i) => (i * 7.3) % 120);
  const loop = (cells: { start(): void; end(code: number, ms: number): void }[], n: number): number => {
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      const c = cells[i % 3]!;
      c.start();
      c.end(i & 3, ms[i & 1023]!);
    }
    return (cpuMs(c0) * 1e6) / n;
  };
  loop(before, 200_000);
  loop(now, 200_000);
  const ns = await alternate({ bucketCells: () => loop(before, eventsPerRound), histogramChild: () => loop(now, eventsPerRound) });
  const saved = spread(ns.histogramChild).median - spread(ns.bucketCells).median;
  return {
    nsPerAttempt: { bucketCells: spread(ns.bucketCells), histogramChild: spread(ns.histogramChild) },
    cellsSaveNsPerAttempt: r3(saved),
    cellsSaveShareOfRequest: r3(saved / (requestMs * 1e6)),
  };
}

// --- lag window ------------------------------------------------------------------------

async function lagWindow() {
  const summary = new Summary({ name: 'lag', help: 'h', percentiles: [0.5, 0.99], maxAgeSeconds: 60, ageBuckets: 6, registers: [] });
  const sliding = new SlidingLatencyHistogram(60_000, 6);
  const total = new LatencyHistogram();
  const n = 200_000;
  const loop = (record: (ms: number, now: number) => void): number => {
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) record((i % 100) / 40, i);
    return (cpuMs(c0) * 1e6) / n;
  };
  const variants = {
    promClientSummary: () => loop((ms) => summary.observe(ms / 1000)),
    slidingHistogram: () => loop((ms, now) => sliding.record(ms, now)),
    cumulativeHistogram: () => loop((ms) => total.record(ms)),
  };
  for (const v of Object.values(variants)) v();
  const ns = await alternate(variants);
  return {
    nsPerStart: {
      promClientSummary: spread(ns.promClientSummary),
      slidingHistogram: spread(ns.slidingHistogram),
      cumulativeHistogram: spread(ns.cumulativeHistogram),
    },
  };
}

// --- scrape -------------------------------------------------------------------------------

const OK: ProbeOutcome = { status: 'HEALTHY', reason: 'ok', output: 'ok' };
const REFUSED: ProbeOutcome = { status: 'UNHEALTHY', reason: 'connect_refused', output: 'refused' };

/** An engine with n checks (n/4 instances, n/200 services, two kinds) that have each run once; one in 20 fails. */
async function mesh(n: number): Promise<{ engine: Engine; rollup: StatusRollup }> {
  const clock = new FakeClock(0);
  const engine = new Engine({
    clock,
    random: seeded(1),
    concurrency: n,
    spreadFirstRun: false,
    runnerFor: (s) => ({ run: async () => (s.name.endsWith('0') && s.name.length % 2 === 0 ? REFUSED : OK) }),
  });
  const rollup = new StatusRollup(() => 1);
  rollup.attach(engine.bus);
  const services = Math.max(1, n / 200);
  const instances = Math.max(1, n / 4);
  for (let i = 0; i < n; i++) engine.add(spec(`svc${i % services}`, `i${i % instances}`, `c${i}`, i % 2 ? 'http' : 'tcp'), 0);
  await clock.advanceAsync(1, 1);
  return { engine, rollup };
}

/** The check_status family built two ways over the same engine, each in its own registry. */
function statusFamilies(engine: Engine): Record<'collectSet' | 'computedGet', Registry> {
  const { name, help, labelNames } = FAMILIES.checkStatus;
  const collectSet = new Registry();
  new Gauge({
    name,
    help,
    labelNames,
    registers: [collectSet],
    collect() {
      this.reset();
      for (const { spec: s, state } of engine.all()) {
        for (const status of ALL_STATUSES) {
          this.set({ status, service: s.service, service_instance: s.instance, check: s.id, kind: s.kind }, status === state.status ? 1 : 0);
        }
      }
    },
  });
  const computedGet = new Registry();
  computedGet.registerMetric(
    new ComputedGauge(
      { name, help, labelNames },
      (out) => {
        for (const { spec: s, state } of engine.all()) {
          const base = { service: s.service, service_instance: s.instance, check: s.id, kind: s.kind };
          for (const status of ALL_STATUSES) out.push({ value: status === state.status ? 1 : 0, labels: { status, ...base } });
        }
      },
      () => {},
    ),
  );
  return { collectSet, computedGet };
}

/** CPU ms of one render, and the text. */
async function timedRender(render: () => Promise<string>): Promise<{ ms: number; text: string }> {
  gc?.();
  const c0 = process.cpuUsage();
  const text = await render();
  return { ms: cpuMs(c0), text };
}

/**
 * Longest event-loop stall (ms) while `render` runs, over `times` renders:
 * /metrics renders one family per turn, prom-client's Registry in one run.
 */
async function renderStallMs(render: () => Promise<string>, times = 3): Promise<number> {
  const loop = monitorEventLoopDelay({ resolution: 1 });
  let max = 0;
  for (let i = 0; i < times; i++) {
    gc?.();
    loop.reset();
    loop.enable();
    await new Promise((resolve) => setTimeout(resolve, 5)); // its timer must have ticked once before a stall counts
    await render();
    await new Promise((resolve) => setTimeout(resolve, 5)); // a turn for the delay to be recorded
    loop.disable();
    max = Math.max(max, loop.max / 1e6);
  }
  return r3(max);
}

/** Scrape CPU per check, spread over the probes a check makes between two scrapes, in µs per probe. */
const perProbeUs = (scrapeMs: number, checks: number): number => r3(((scrapeMs / checks) * 1000 * checkIntervalS) / scrapeIntervalS);

async function scrape(n: number) {
  const { engine, rollup } = await mesh(n);
  const full = createMetrics({
    engine,
    rollup,
    processMetrics: false,
    storeStats: () => ({ lastFlushMs: 3, rows: n, dropped: 0, flushes: 10, flushMsTotal: 30 }),
  });
  const first = await full.render();
  const series = first.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
  const families = statusFamilies(engine);
  // Heap each way keeps between scrapes (after one scrape, with nothing else changing).
  const retained: Record<string, number> = {};
  for (const [way, registry] of Object.entries(families)) {
    const before = heap();
    await registry.metrics();
    retained[way] = Math.round((heap() - before) / n);
  }
  const ms = await alternate({
    full: async () => (await timedRender(() => full.render())).ms,
    fullByPromClient: async () => (await timedRender(() => full.registry.metrics())).ms,
    collectSet: async () => (await timedRender(() => families.collectSet.metrics())).ms,
    computedGet: async () => (await timedRender(() => families.computedGet.metrics())).ms,
  });
  const stallMs = { yielding: await renderStallMs(() => full.render()), byPromClientInOneRun: await renderStallMs(() => full.registry.metrics()) };
  const statusText = await families.computedGet.metrics();
  full.detach();
  await engine.stop();
  const med = (k: keyof typeof ms) => spread(ms[k]).median;
  return {
    checks: n,
    // What /metrics serves (computed families written by sample-text.ts), and the same registry written by prom-client.
    whole: {
      cpuMs: spread(ms.full),
      byPromClientCpuMs: spread(ms.fullByPromClient),
      stallMs,
      bytes: first.length,
      series,
      perProbeUs: perProbeUs(med('full'), n),
    },
    checkStatusOnly: {
      bytes: statusText.length,
      series: 4 * n,
      cpuMs: { collectSet: spread(ms.collectSet), computedGet: spread(ms.computedGet) },
      perProbeUs: { collectSet: perProbeUs(med('collectSet'), n), computedGet: perProbeUs(med('computedGet'), n) },
      computedGetSavesShareOfProbe: r3((perProbeUs(med('collectSet'), n) - perProbeUs(med('computedGet'), n)) / (probeMs * 1000)),
      retainedHeapBytesPerCheck: retained,
    },
  };
}

const report = {
  bench: 'metrics',
  node: process.version,
  rounds,
  assumptions: {
    probeCpuMs: probeMs,
    probeSource: 'issue 20: bench/probes, reused-connection HTTP probe',
    requestCpuMs: requestMs,
    checkIntervalS,
    scrapeIntervalS,
  },
  perResult: await perResult(),
  perProxyAttempt: await perProxyAttempt(),
  lagWindow: await lagWindow(),
  scrape: [] as Awaited<ReturnType<typeof scrape>>[],
};
for (const n of sizes) report.scrape.push(await scrape(n));
console.log(JSON.stringify(report));
