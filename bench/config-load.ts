/**
 * bench/config-load: what loading a config costs at 1,000, 10,000 and
 * 100,000 checks (100 instances a service, one check an instance, 70 % HTTP,
 * the shape of bench/daemon-scale). Prints JSON per N, medians of --runs:
 *  - withLinesMs: the `yaml` document-model path (what an invalid file takes);
 *  - quickMs: the js-yaml path a valid file takes (config/fast-load.ts);
 *  - reloadMs: the quick path given the previous config, one instance changed
 *    (a reload: unchanged services are reused, not validated again).
 *
 *   npm run build && node dist/bench/config-load.js [--runs 5] [--n 1000,10000,100000]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { parseConfig, parseConfigWithLines } from '../src/config/load.js';
import { median } from './lib/stats.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, n: { type: 'string', default: '1000,10000,100000' } } });
const runs = Number(values.runs);

function configText(n: number, moved = false): string {
  const lines: string[] = [];
  for (let s = 0; s < Math.ceil(n / 100); s++) {
    lines.push(`  s${s}:`, '    instances:');
    for (let i = 0; i < 100 && s * 100 + i < n; i++) {
      const at = moved && s === 0 && i === 0 ? n : s * 100 + i;
      lines.push(`      - { id: i${i}, address: "127.${(at >> 16) & 255}.${(at >> 8) & 255}.${(at & 255) + 1}:8080" }`);
    }
    lines.push(s % 10 < 7 ? '    checks: [{ kind: http }]' : '    checks: [{ kind: tcp }]');
  }
  return `server: { listen: "127.0.0.1:7400" }\ndefaults: { interval: 10s, timeout: 2s }\nservices:\n${lines.join('\n')}\n`;
}

function timed(run: () => unknown): number[] {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    run();
    out.push(performance.now() - t0);
  }
  return out;
}

const round = (ms: number): number => Math.round(ms * 10) / 10;
const results = [];
for (const n of values.n.split(',').map(Number)) {
  const text = configText(n);
  const moved = configText(n, true);
  const withLines = timed(() => parseConfigWithLines(text, { env: {} }));
  const quick = timed(() => parseConfig(text, { env: {} }));
  const previous = parseConfig(text, { env: {} });
  const reload = timed(() => parseConfig(moved, { env: {}, previous }));
  results.push({
    checks: n,
    bytes: text.length,
    withLinesMs: round(median(withLines)),
    quickMs: round(median(quick)),
    reloadMs: round(median(reload)),
  });
}
console.log(JSON.stringify({ bench: 'config-load', runs, results, loadAverage: loadavg().map((l) => l.toFixed(2)) }, null, 2));
