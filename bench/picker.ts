/**
 * bench/picker: picks per second and heap bytes allocated per pick for every
 * picker kind at 10 and 10 000 instances, one core. Prints one JSON line.
 *
 *   npx tsc -p . && node --expose-gc dist/bench/picker.js [--picks 5000000] [--only p2c] [--random typed|seeded]
 *
 * Allocation method: gc() twice, read process.memoryUsage().heapUsed, run 1M
 * picks, read heapUsed again without collecting; a PerformanceObserver counts
 * GCs in that window. If none ran, (after − before) / 1M is the allocation per
 * pick (young-generation bump allocation shows up in heapUsed); if one ran the
 * figure is only a lower bound and `gcDuringAllocWindow` says so.
 *
 * Random: `seeded` is src/core/random.ts's mulberry32, whose closure keeps its
 * uint32 state in a context variable; on Node 20 most states exceed the Smi
 * range, so every call boxes a HeapNumber (~16 B). `typed` (default) is the
 * same mulberry32 with its state in a Uint32Array, which allocates nothing,
 * so the figure isolates the picker's own allocation.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { realClock } from '../src/core/clock.js';
import { seeded } from '../src/core/random.js';
import { pickerKinds, type PickerKind } from '../src/balancer/pickers/index.js';
import type { Instance, Picker } from '../src/balancer/types.js';
import type { Random } from '../src/core/random.js';
import { balancerSchema } from '../src/config/balancer.js';
import { ServiceBalancer } from '../src/balancer/service-balancer.js';

/** mulberry32 with its state in a typed array: no HeapNumber per call. */
function typedSeeded(seed: number): Random {
  const st = new Uint32Array(1);
  st[0] = seed >>> 0;
  return () => {
    const a = (st[0]! + 0x6d2b79f5) >>> 0;
    st[0] = a;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const { values } = parseArgs({
  options: { picks: { type: 'string', default: '5000000' }, only: { type: 'string' }, random: { type: 'string', default: 'typed' } },
});
const makeRandom = values.random === 'seeded' ? seeded : typedSeeded;
const PICKS = Number(values.picks);
const ALLOC_PICKS = 1_000_000;

const gc = (globalThis as { gc?: () => void }).gc;
let gcCount = 0;
const obs = new PerformanceObserver((list) => {
  gcCount += list.getEntries().length;
});
obs.observe({ entryTypes: ['gc'] });

const keys: string[] = Array.from({ length: 4096 }, (_, i) => `session-${i * 7919}`);
let sink = 0;

function run(p: Picker, n: number, hashed: boolean): void {
  if (hashed) {
    for (let i = 0; i < n; i++) sink += p.pick(keys[i & 4095])!.weight;
  } else {
    for (let i = 0; i < n; i++) sink += p.pick()!.weight;
  }
}

async function settle(): Promise<void> {
  // Let the GC observer deliver entries from earlier collections.
  await new Promise((r) => setTimeout(r, 10));
}

/** Time `count` operations after a warm-up, then the heap bytes of `allocCount` more with no GC collected before. */
async function measure(op: (n: number) => void, warmup: number, count: number, allocCount: number) {
  op(warmup); // warm up / optimise
  const t0 = performance.now();
  op(count);
  const secs = (performance.now() - t0) / 1000;
  gc?.();
  gc?.();
  await settle();
  const gcBefore = gcCount;
  const h0 = process.memoryUsage().heapUsed;
  op(allocCount);
  const h1 = process.memoryUsage().heapUsed;
  await settle();
  return {
    perSec: Math.round(count / secs),
    ns: Number(((secs * 1e9) / count).toFixed(1)),
    bytes: Number(((h1 - h0) / allocCount).toFixed(3)),
    gcs: gcCount - gcBefore,
  };
}

const results: Record<string, unknown>[] = [];
for (const n of [10, 10_000]) {
  const instances: Instance[] = Array.from({ length: n }, (_, i) => ({ id: `10.0.${i >> 8}.${i & 255}:8080`, weight: 1 + (i % 5) }));
  for (const kind of Object.keys(pickerKinds) as PickerKind[]) {
    if (values.only !== undefined && values.only !== kind) continue;
    const buildStart = performance.now();
    const p = pickerKinds[kind](instances, { random: makeRandom(42), clock: realClock });
    const buildMs = performance.now() - buildStart;
    const hashed = kind === 'maglev';
    const m = await measure((count) => run(p, count, hashed), 1_000_000, PICKS, ALLOC_PICKS);
    results.push({
      kind,
      instances: n,
      picksPerSec: m.perSec,
      nsPerPick: m.ns,
      bytesPerPick: m.bytes,
      gcDuringAllocWindow: m.gcs,
      buildMs: Number(buildMs.toFixed(2)),
    });
  }
}
// The whole balancer around a picker: pick + release (what a proxy does per attempt
// before the outcome), and pick + report (breaker, outlier and latency bookkeeping too).
const balancerResults: Record<string, unknown>[] = [];
for (const n of [10, 10_000]) {
  for (const picker of ['wrr', 'p2c', 'least-latency'] as const) {
    if (values.only !== undefined && values.only !== picker) continue;
    const b = new ServiceBalancer({ service: 'bench', config: balancerSchema.parse({ picker }), clock: realClock, random: makeRandom(42) });
    b.setMembers(
      Array.from({ length: n }, (_, i) => ({
        id: `i${i}`,
        address: `10.0.${i >> 8}.${i & 255}:8080`,
        weight: 1 + (i % 5),
        status: 'HEALTHY' as const,
        score: 100,
      })),
    );
    const ok = { ok: true, latencyMs: 1, status: 200 };
    const loop = (count: number, withReport: boolean): void => {
      for (let i = 0; i < count; i++) {
        const p = b.pick()!;
        if (withReport) b.report(p.id, ok);
        else b.release(p.id);
        sink += p.address.length;
      }
    };
    for (const withReport of [false, true]) {
      const m = await measure((count) => loop(count, withReport), 500_000, Math.min(PICKS, 2_000_000), 200_000);
      balancerResults.push({
        picker,
        instances: n,
        op: withReport ? 'pick+report' : 'pick+release',
        opsPerSec: m.perSec,
        nsPerOp: m.ns,
        bytesPerOp: m.bytes,
        gcDuringAllocWindow: m.gcs,
      });
    }
    b.close();
  }
}
obs.disconnect();
console.log(
  JSON.stringify({
    bench: 'picker',
    node: process.version,
    picks: PICKS,
    allocMethod: `heapUsed delta over ${ALLOC_PICKS} picks after gc()x2, no gc in between (gcDuringAllocWindow counts GCs seen)`,
    random: values.random,
    gcExposed: gc !== undefined,
    results,
    balancer: balancerResults,
    sink: sink > 0,
  }),
);
