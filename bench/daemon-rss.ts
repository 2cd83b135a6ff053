/**
 * bench/daemon-rss: resident memory of a daemon running N checks (default
 * 10 000 TCP checks at a 10 s interval against a local listener in a child
 * process), with SQLite history, metrics and the API, after a warm-up.
 *
 *   npm run build && node dist/bench/daemon-rss.js [--checks 10000] [--seconds 40]
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { parseConfig } from '../src/config/load.js';
import { startDaemon } from '../src/daemon.js';

const { values } = parseArgs({
  options: { checks: { type: 'string', default: '10000' }, seconds: { type: 'string', default: '40' }, child: { type: 'boolean' } },
});

if (values.child) {
  // The target: accepts and closes, in its own process so its memory is not counted.
  const { createServer } = await import('node:net');
  const server = createServer((s) => s.destroy());
  server.listen(0, '127.0.0.1', () => process.send!((server.address() as { port: number }).port));
} else {
  const target = fork(new URL(import.meta.url).pathname, ['--child'], { stdio: 'inherit' });
  const port = await new Promise<number>((r) => target.once('message', (m) => r(m as number)));
  const checks = Number(values.checks);
  const perService = 100;
  const services: string[] = [];
  for (let s = 0; s < checks / perService; s++) {
    const instances = Array.from({ length: perService }, (_, i) => `      - { id: i${i}, address: "127.0.0.1:${port}" }`).join('\n');
    services.push(`  svc${s}:\n    instances:\n${instances}\n    checks: [{ kind: tcp }]`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'hm-rss-'));
  const config = parseConfig(
    `server: { listen: "127.0.0.1:0" }\nstorage: { path: "${join(dir, 'hm.db')}" }\ndefaults: { interval: 10s, timeout: 2s }\nservices:\n${services.join('\n')}\n`,
    { env: {} },
  );
  const before = process.memoryUsage().rss;
  const daemon = await startDaemon({ config, logger: pino({ level: 'warn' }) });
  const samples: number[] = [];
  const seconds = Number(values.seconds);
  for (let t = 0; t < seconds; t += 5) {
    await new Promise((r) => setTimeout(r, 5000));
    samples.push(process.memoryUsage().rss);
  }
  const stats = daemon.engine.schedulerStats();
  const scrape = await (await fetch(`http://127.0.0.1:${daemon.address.port}/metrics`)).text();
  await daemon.stop();
  target.kill();
  rmSync(dir, { recursive: true, force: true });
  const mb = (b: number) => Math.round((b / 1048576) * 10) / 10;
  console.log(
    JSON.stringify({
      bench: 'daemon-rss',
      checks,
      seconds,
      runs: stats.runs,
      lagP99Ms: Math.round(stats.lag.p99 * 100) / 100,
      rssMb: { beforeDaemon: mb(before), final: mb(samples[samples.length - 1]!), max: mb(Math.max(...samples)) },
      metricsBytes: scrape.length,
      targetMb: 300,
      pass: Math.max(...samples) < 300 * 1048576,
    }),
  );
}
