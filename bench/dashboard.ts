/**
 * bench/dashboard: what the dashboard costs, against the real daemon and
 * Debian's Chromium. Prints JSON:
 *  - shipped: JS+CSS bytes of the build, gzipped (target < 150 KB), for the
 *    mesh view's first load and for everything (the uPlot chunk and the
 *    status page too), and brotli as served;
 *  - firstRenderMs: navigation start → the mesh view rendered with data,
 *    10,000 instances (1,000 services × 10), cold cache (target < 1,000 ms),
 *    and the main thread's CPU time until then;
 *  - mainThreadMsPerS: the page's main-thread time per second while 100
 *    transitions/s arrive (target < 100 ms), from a trace of its top-level
 *    tasks: wall time, and CPU time (what the page itself costs; wall time
 *    grows with whatever else the machine runs), with CPU by kind of work.
 * Each figure is the median of --runs runs (the machine is shared: medians),
 * printed with the load average over the run.
 *
 *   npm run build && node dist/bench/dashboard.js [--runs 5] [--seconds 10] [--services 1000] [--instances 10]
 */
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { parseConfig } from '../src/config/load.js';
import { startDaemon } from '../src/daemon.js';
import { defaultAssetsDir } from '../src/server/web.js';
import { launchChromium, traceMainThread } from './lib/chromium.js';
import { allHealthy, drive, meshYaml, type MeshShape } from './lib/dashboard-mesh.js';
import { median } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '10' },
    services: { type: 'string', default: '1000' },
    instances: { type: 'string', default: '10' },
    rate: { type: 'string', default: '100' },
  },
});
const runs = Number(values.runs);
const seconds = Number(values.seconds);
const rate = Number(values.rate);
const shape: MeshShape = { services: Number(values.services), instances: Number(values.instances) };

/** Sizes of the built JS and CSS: gzip (.gz written at build time) and brotli (.br, what Chromium is sent). */
function shipped(): unknown {
  const dir = defaultAssetsDir();
  const assets = join(dir, 'assets');
  const size = (file: string, ext: string): number => statSync(join(assets, `${file}${ext}`)).size;
  const code = readdirSync(assets).filter((f) => /\.(js|css)$/.test(f));
  // What index.html pulls in before anything is clicked: its scripts, preloads and styles.
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  const initial = [...html.matchAll(/(?:src|href)="\/assets\/([^"]+\.(?:js|css))"/g)].map((m) => m[1]!);
  const sum = (files: string[], ext: string): number => files.reduce((n, f) => n + size(f, ext), 0);
  const kb = (n: number): number => Math.round(n / 102.4) / 10;
  return {
    meshViewGzipKB: kb(sum(initial, '.gz')),
    allGzipKB: kb(sum(code, '.gz')),
    allBrotliKB: kb(sum(code, '.br')),
    allRawKB: kb(sum(code, '')),
    files: code.length,
    targetGzipKB: 150,
  };
}

/** Bytes of a gzip answer as sent (fetch would decode it). */
async function compressedSize(url: string): Promise<number> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
      let n = 0;
      res.on('data', (d: Buffer) => (n += d.length));
      res.on('end', () => resolve(n));
    });
    req.on('error', reject);
    req.end();
  });
}

const daemon = await startDaemon({
  config: parseConfig(meshYaml(shape, join(mkdtempSync(join(tmpdir(), 'hm-bench-')), 'hm.db')), { env: {} }),
  logger: pino({ level: 'error' }),
  listen: '127.0.0.1:0',
});
const base = `http://127.0.0.1:${daemon.address.port}`;
await allHealthy(daemon, shape);
const summaryBytes = (await (await fetch(`${base}/api/v1/web/summary`)).arrayBuffer()).byteLength;
const summaryGzip = await compressedSize(`${base}/api/v1/web/summary`);

const firstRender: number[] = [];
const firstRenderCpu: number[] = [];
const wallPerS: number[] = [];
const cpuPerS: number[] = [];
const cpuPerUpdate: number[] = [];
const byKind: Array<Record<string, number>> = [];
const load = [readFileSync('/proc/loadavg', 'utf8').split(' ')[0]!];
let flipsFrom = 0;
for (let run = 0; run < runs; run++) {
  // A fresh browser each run: cold cache, cold JIT, as a first visit.
  const browser = await launchChromium();
  try {
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    const loading = await traceMainThread(browser.context, page, async () => {
      await page.goto(`${base}/`);
      await page.locator('tr[data-service]').first().waitFor({ timeout: 30_000 });
    });
    firstRender.push(await page.evaluate(() => performance.getEntriesByName('hm-first-render')[0]!.startTime));
    firstRenderCpu.push(loading.cpuMs);
    await page.locator('body[data-live="live"]').waitFor();

    const received = async (): Promise<number> => Number(await page.locator('body').getAttribute('data-received'));
    const before = await received();
    let sent = 0;
    const live = await traceMainThread(browser.context, page, async () => {
      sent = await drive(daemon, shape, rate, seconds, flipsFrom);
      // Until the page has every transition (the last are shown within a second).
      const settleEnd = performance.now() + 10_000;
      while ((await received()) - before < sent && performance.now() < settleEnd) await new Promise((r) => setTimeout(r, 50));
    });
    flipsFrom += sent * 2;
    const got = (await received()) - before;
    if (got !== sent) throw new Error(`the page received ${got} of ${sent} transitions`);
    const elapsedS = live.elapsedMs / 1000;
    wallPerS.push(live.wallMs / elapsedS);
    cpuPerS.push(live.cpuMs / elapsedS);
    cpuPerUpdate.push(live.cpuMs / got);
    byKind.push(Object.fromEntries(Object.entries(live.byKind).map(([k, v]) => [k, v / elapsedS])));
    load.push(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]!);
  } finally {
    await browser.close();
  }
}
await daemon.stop();

const round = (n: number): number => Math.round(n * 10) / 10;
const kinds = [...new Set(byKind.flatMap((k) => Object.keys(k)))];
const result = {
  bench: 'dashboard',
  mesh: { services: shape.services, instances: shape.services * shape.instances },
  shipped: shipped(),
  summary: { bytes: summaryBytes, gzipBytes: summaryGzip },
  firstRenderMs: { median: round(median(firstRender)), runs: firstRender.map(round), mainThreadCpuMs: round(median(firstRenderCpu)), target: 1000 },
  mainThreadMsPerS: {
    wall: { median: round(median(wallPerS)), runs: wallPerS.map(round) },
    cpu: { median: round(median(cpuPerS)), runs: cpuPerS.map(round) },
    cpuByKind: Object.fromEntries(kinds.map((k) => [k, round(median(byKind.map((b) => b[k] ?? 0)))]).filter(([, v]) => (v as number) >= 0.5)),
    transitionsPerS: rate,
    seconds,
    target: 100,
  },
  mainThreadCpuMsPerUpdate: { median: Math.round(median(cpuPerUpdate) * 100) / 100 },
  loadAverage: load,
};
console.log(JSON.stringify(result, null, 2));
