/**
 * Summarise a V8 .cpuprofile (from `node --cpu-prof`): time by area
 * (healthmesh, undici, node internals, GC, idle), top functions by self time,
 * and healthmesh functions by inclusive time (their callees included).
 *
 *   node dist/bench/lib/cpuprofile.js FILE.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface Summary {
  totalMs: number;
  areas: Array<{ area: string; ms: number; share: number }>;
  self: Array<{ fn: string; area: string; ms: number; share: number }>;
  healthmeshInclusive: Array<{ fn: string; ms: number; share: number }>;
}

function area(cf: CallFrame): string {
  const u = cf.url;
  if (u === '') {
    if (cf.functionName === '(garbage collector)') return 'gc';
    if (cf.functionName === '(idle)') return 'idle';
    if (cf.functionName === '(program)') return 'program (native, outside JS)';
    return 'native';
  }
  if (u.includes('/dist/src/')) return 'healthmesh';
  if (u.includes('/dist/bench/')) return 'bench';
  if (u.includes('/node_modules/undici/')) return 'undici';
  if (u.includes('/node_modules/')) return 'other packages';
  if (u.startsWith('node:')) return 'node internals';
  return 'other';
}

function label(cf: CallFrame): string {
  const file = cf.url.replace(/^.*\/(dist\/src|dist\/bench|node_modules)\//, '$1/').replace(/^file:\/\//, '');
  return `${cf.functionName || '(anonymous)'} ${file}:${cf.lineNumber + 1}`;
}

export function summarise(p: Profile, top = 25): Summary {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const selfMs = new Map<number, number>();
  let total = 0;
  // timeDeltas[i+1] is the time spent in the state seen at sample i.
  for (let i = 0; i < p.samples.length; i++) {
    const ms = (p.timeDeltas[i + 1] ?? 0) / 1000;
    const id = p.samples[i] as number;
    selfMs.set(id, (selfMs.get(id) ?? 0) + ms);
    total += ms;
  }
  const areas = new Map<string, number>();
  const selfFn = new Map<string, { area: string; ms: number }>();
  const inclusive = new Map<string, number>();
  for (const [id, ms] of selfMs) {
    const node = byId.get(id);
    if (!node) continue;
    const a = area(node.callFrame);
    areas.set(a, (areas.get(a) ?? 0) + ms);
    const key = label(node.callFrame);
    const e = selfFn.get(key) ?? { area: a, ms: 0 };
    e.ms += ms;
    selfFn.set(key, e);
    // Inclusive time of each healthmesh function on this stack, counted once per stack.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur);
      if (!n || area(n.callFrame) !== 'healthmesh') continue;
      const k = label(n.callFrame);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + ms);
    }
  }
  const share = (ms: number): number => Math.round((ms / total) * 1000) / 1000;
  const r = (ms: number): number => Math.round(ms);
  return {
    totalMs: r(total),
    areas: [...areas].sort((a, b) => b[1] - a[1]).map(([a, ms]) => ({ area: a, ms: r(ms), share: share(ms) })),
    self: [...selfFn]
      .sort((a, b) => b[1].ms - a[1].ms)
      .slice(0, top)
      .map(([fn, e]) => ({ fn, area: e.area, ms: r(e.ms), share: share(e.ms) })),
    healthmeshInclusive: [...inclusive]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([fn, ms]) => ({ fn, ms: r(ms), share: share(ms) })),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ options: { top: { type: 'string', default: '25' } }, allowPositionals: true });
  const file = positionals[0];
  if (!file) throw new Error('usage: cpuprofile.js FILE.cpuprofile [--top N]');
  const s = summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile, Number(values.top));
  const pct = (x: number): string => `${(x * 100).toFixed(1).padStart(5)}%`;
  console.log(`total ${s.totalMs} ms sampled\n\nby area:`);
  for (const a of s.areas) console.log(`  ${pct(a.share)}  ${a.area}`);
  console.log('\ntop self time:');
  for (const f of s.self) console.log(`  ${pct(f.share)}  [${f.area}] ${f.fn}`);
  console.log('\nhealthmesh functions, inclusive (callees counted):');
  for (const f of s.healthmeshInclusive) console.log(`  ${pct(f.share)}  ${f.fn}`);
}
