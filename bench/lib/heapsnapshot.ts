/**
 * Summarise a V8 .heapsnapshot (from `node --heapsnapshot-signal`): self
 * size and count by constructor name, biggest first, to find what a daemon
 * keeps per check (divide by the check count).
 *
 *   node dist/bench/lib/heapsnapshot.js FILE.heapsnapshot [--top 30] [--per 10000]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

/** Rows of {name, type, count, bytes}, biggest self size first. */
export function summariseHeap(s: Snapshot, top = 30): Array<{ name: string; count: number; bytes: number }> {
  const fields = s.snapshot.meta.node_fields;
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const types = s.snapshot.meta.node_types[0];
  const by = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + typeAt]!] ?? '?';
    // Objects by constructor; strings, arrays, closures and code by their type.
    const key = type === 'object' || type === 'native' ? s.strings[s.nodes[i + nameAt]!]! : `(${type})`;
    const e = by.get(key) ?? { count: 0, bytes: 0 };
    e.count++;
    e.bytes += s.nodes[i + sizeAt]!;
    by.set(key, e);
  }
  return [...by.entries()]
    .map(([name, e]) => ({ name, ...e }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, top);
}

if (process.argv[1]?.endsWith('heapsnapshot.js')) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' }, per: { type: 'string' } } });
  const snap = JSON.parse(readFileSync(positionals[0]!, 'utf8')) as Snapshot;
  const per = values.per !== undefined ? Number(values.per) : undefined;
  for (const r of summariseHeap(snap, Number(values.top))) {
    const perCheck = per !== undefined ? ` ${(r.bytes / per).toFixed(0).padStart(6)} B/check ${(r.count / per).toFixed(2).padStart(6)}/check` : '';
    console.log(`${(r.bytes / 1048576).toFixed(1).padStart(8)} MB ${String(r.count).padStart(9)}${perCheck}  ${r.name.slice(0, 80)}`);
  }
}
