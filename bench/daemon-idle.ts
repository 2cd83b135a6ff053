/**
 * bench/daemon-idle: memory of the daemon a newcomer starts, `healthmesh
 * start` on examples/healthmesh.yaml (the README's first command, embedded
 * storage in a fresh directory), sampled every second once it listens.
 * Prints the RSS at ready and, over the last half of the run (after V8's
 * memory reducer has had its chance), the median and the highest; the
 * anonymous part (what is ours) apart from the file-backed part (mostly
 * the node binary's pages, shared with every other Node process); threads.
 *
 *   npm run build && node dist/bench/daemon-idle.js [--seconds 40] [--cli dist/src/cli.js]
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, sleep, startChild, stopChild, waitForPort } from './lib/proc.js';
import { median } from './lib/stats.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '40' }, cli: { type: 'string', default: 'dist/src/cli.js' } } });
const seconds = Number(values.seconds);
const root = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'hm-idle-'));
const port = await freePort();
const daemon = startChild(
  'daemon',
  process.execPath,
  [resolve(root, values.cli), 'start', '--config', join(root, 'examples/healthmesh.yaml'), '--listen', `127.0.0.1:${port}`],
  dir,
);

/** VmRSS, RssAnon and RssFile of the daemon, in MB. */
function memory(): { rss: number; anon: number; file: number } {
  const status = readFileSync(`/proc/${daemon.pid}/status`, 'utf8');
  const mb = (field: string) => Math.round(Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 102.4) / 10;
  return { rss: mb('VmRSS'), anon: mb('RssAnon'), file: mb('RssFile') };
}

try {
  await waitForPort(daemon, port, 30_000);
  const atReady = memory();
  const samples: Array<ReturnType<typeof memory>> = [];
  for (let s = 0; s < seconds; s++) {
    await sleep(1000);
    samples.push(memory());
  }
  const late = samples.slice(Math.floor(samples.length / 2));
  const threads = readdirSync(`/proc/${daemon.pid}/task`).length;
  console.log(
    JSON.stringify({
      bench: 'daemon-idle',
      cli: values.cli,
      seconds,
      rssAtReadyMb: atReady.rss,
      rssMedianMb: median(late.map((m) => m.rss)),
      rssMaxMb: Math.max(...late.map((m) => m.rss)),
      anonMedianMb: median(late.map((m) => m.anon)),
      fileMedianMb: median(late.map((m) => m.file)),
      threads,
    }),
  );
} finally {
  await stopChild(daemon, 5000);
  rmSync(dir, { recursive: true, force: true });
}
