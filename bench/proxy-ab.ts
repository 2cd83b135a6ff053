/**
 * bench/proxy-ab: builds of healthmesh's proxy against each other (old code
 * against new, or one build under different node flags) on one nginx,
 * measured with wrk in alternating runs: each round runs every phase on
 * direct nginx and on every variant, in a rotating order, so the machine's
 * drift (other tenants of a shared VM move p99 by milliseconds from one
 * minute to the next) falls on all of them alike.
 *
 *   bash bench/proxy-ab.sh --variant NAME=DIST[:NODE_FLAGS] ... [--rounds 6] [--seconds 3]
 *                          [--phases c1,r2000,r8000,c32] [--body-bytes 1024]
 *
 * DIST is a compiled tree (`npx tsc -p . --outDir /tmp/old/dist` in a
 * checkout of the old commit, whose node_modules resolve from there); each
 * variant is DIST/bench/proxy.js --serve in its own process. Phases: c1 (one
 * connection, back to back), rN (32 connections at about N requests/s, see
 * lib/wrk.ts' rateScript), c32 (32 connections, saturated). Prints one JSON
 * line: per phase and variant the medians over the rounds of p99 overhead
 * (variant p99 − direct p99 of the same round), p50, requests/s and CPU µs
 * per request (the steadiest figure on a noisy machine), and every round's
 * overhead.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startNginx } from './lib/targets.js';
import { freePort, killAllSync, procCpuMs, startChild, stopAll, waitForPort, type Child } from './lib/proc.js';
import { rateScript, wrkRun, type WrkSummary } from './lib/wrk.js';
import { median, round3 } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    variant: { type: 'string', multiple: true, default: [] },
    rounds: { type: 'string', default: '6' },
    seconds: { type: 'string', default: '3' },
    phases: { type: 'string', default: 'c1,r2000,r8000,c32' },
    'body-bytes': { type: 'string', default: '1024' },
  },
});

interface Variant {
  name: string;
  port: number;
  child?: Child;
}
interface Phase {
  name: string;
  connections: number;
  rps?: number;
}
interface Run extends WrkSummary {
  cpuUsPerRequest: number;
}

const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const phases = (values.phases ?? '').split(',').map(parsePhase);
const specs = values.variant ?? [];
if (!(rounds >= 1 && seconds > 0 && specs.length > 0))
  throw new Error('usage: proxy-ab.js --variant NAME=DIST[:FLAGS] ... [--rounds R>=1] [--seconds S>0] [--phases c1,r2000,c32]');

const dir = mkdtempSync(join(tmpdir(), 'healthmesh-bench-proxy-ab-'));
process.on('exit', killAllSync);
// Bounded: every wrk run plus a margin per run and a minute to start and stop.
const budgetMs = (rounds * phases.length * (specs.length + 1) * (seconds + 5) + 60) * 1000;
const watchdog = setTimeout(() => {
  process.stderr.write(`bench/proxy-ab: over ${budgetMs} ms, giving up\n`);
  killAllSync();
  process.exit(2);
}, budgetMs);
watchdog.unref();
try {
  const nginx = await startNginx(dir, { bodyBytes: Number(values['body-bytes']) });
  const variants: Variant[] = [{ name: 'direct', port: nginx.port }];
  for (const spec of specs) variants.push(await startVariant(spec, nginx.port));
  const runs = new Map<string, Run[]>(); // `${phase}/${variant}` → one per round
  for (let r = 0; r < rounds; r++) {
    for (const phase of phases) {
      const script = phase.rps === undefined ? undefined : rateScript(dir, phase.rps, phase.connections).path;
      for (const v of variants.map((_, i) => variants[(i + r) % variants.length]!)) {
        const cpu0 = v.child ? procCpuMs(v.child.pid) : 0;
        const got = await wrkRun(v.port, 1, phase.connections, seconds, script);
        const cpuUsPerRequest = v.child && got.requests > 0 ? Math.round(((procCpuMs(v.child.pid) - cpu0) * 1000) / got.requests) : 0;
        const key = `${phase.name}/${v.name}`;
        runs.set(key, [...(runs.get(key) ?? []), { ...got, cpuUsPerRequest }]);
        process.stderr.write(`bench/proxy-ab: round ${r + 1}/${rounds} ${key}: ${JSON.stringify(got)} cpu ${cpuUsPerRequest} µs/request\n`);
      }
    }
  }
  const result: Record<string, Record<string, unknown>> = {};
  for (const phase of phases) {
    const direct = runs.get(`${phase.name}/direct`)!;
    result[phase.name] = { directP99Ms: median(direct.map((x) => x.p99Ms)) };
    for (const v of variants.slice(1)) {
      const mine = runs.get(`${phase.name}/${v.name}`)!;
      const over = mine.map((x, i) => round3(x.p99Ms - direct[i]!.p99Ms));
      result[phase.name]![v.name] = {
        p99OverheadMs: median(over),
        p50Ms: median(mine.map((x) => x.p50Ms)),
        rps: median(mine.map((x) => x.rps)),
        cpuUsPerRequest: median(mine.map((x) => x.cpuUsPerRequest)),
        errors: mine.reduce((s, x) => s + x.errors, 0),
        p99OverheadMsByRound: over,
      };
    }
  }
  process.stdout.write(`${JSON.stringify({ bench: 'proxy-ab', rounds, seconds, nginx: nginx.version, variants: specs, phases: result })}\n`);
} finally {
  clearTimeout(watchdog);
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
}

/** `c1`, `c32` (connections, no wait) or `r2000` (32 connections at about 2000 requests/s). */
function parsePhase(name: string): Phase {
  const m = /^(c|r)(\d+)$/.exec(name);
  if (!m || Number(m[2]) < 1) throw new Error(`--phases: "${name}" is not cN or rN`);
  return m[1] === 'c' ? { name, connections: Number(m[2]) } : { name, connections: 32, rps: Number(m[2]) };
}

/** NAME=DIST[:FLAGS]: DIST/bench/proxy.js --serve in its own node process, with FLAGS (space-separated) before it. */
async function startVariant(spec: string, upstreamPort: number): Promise<Variant> {
  const m = /^([\w.-]+)=([^:]+)(?::(.*))?$/.exec(spec);
  if (!m) throw new Error(`--variant: "${spec}" is not NAME=DIST[:NODE_FLAGS]`);
  const [, name, dist, flags] = m as unknown as [string, string, string, string | undefined];
  if (name === 'direct') throw new Error('--variant: "direct" is the name of the runs without a proxy');
  const port = await freePort();
  const args = [
    ...(flags ?? '').split(' ').filter((f) => f !== ''),
    join(dist, 'bench', 'proxy.js'),
    '--serve',
    String(port),
    '--upstream',
    `127.0.0.1:${upstreamPort}`,
  ];
  const child = startChild(`proxy ${name}`, process.execPath, args);
  await waitForPort(child, port);
  return { name, port, child };
}
