/**
 * bench/api: throughput of the load balancer's question
 * (/api/v1/services/:service/instances?status=healthy) and of /health,
 * beside a bare fastify route answering a fixed JSON body of the same size,
 * all in this process and loaded by wrk (Debian `wrk`) from another process.
 *
 *   npm run build && node dist/bench/api.js [--instances 50] [--seconds 5] [--connections 32]
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import type { CheckRunner } from '../src/core/check.js';
import { realClock } from '../src/core/clock.js';
import { realRandom } from '../src/core/random.js';
import { parseConfig } from '../src/config/load.js';
import { Engine } from '../src/engine.js';
import { Registry } from '../src/registry/registry.js';
import { buildServer } from '../src/server/app.js';
import { TransitionLog } from '../src/server/event-log.js';
import { StatusRollup } from '../src/status/rollup.js';

const { values } = parseArgs({
  options: {
    instances: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '32' },
  },
});
const instances = Number(values.instances);

const yaml = `services:
  api:
    instances:
${Array.from({ length: instances }, (_, i) => `      - { id: i${i}, address: "10.0.${i >> 8}.${i & 255}:80", zone: z${i % 3} }`).join('\n')}
    checks: [{ kind: tcp, interval: 1h }]
  other:
    instances: [{ id: o1, address: "10.1.0.1:80" }]
    checks: [{ kind: tcp, interval: 1h }]
`;
const ok: CheckRunner = { run: async () => ({ status: 'HEALTHY', reason: 'ok', output: 'ok' }) };
const engine = new Engine({ clock: realClock, random: realRandom, concurrency: 64, spreadFirstRun: false, runnerFor: () => ok });
const config = parseConfig(yaml, { env: {} });
const registry = new Registry(engine, config);
const rollup = new StatusRollup((s) => registry.minHealthy(s));
rollup.attach(engine.bus);
const transitions = new TransitionLog();
transitions.attach(engine.bus);
registry.applyConfig(config);
await new Promise((r) => setTimeout(r, 200));

const app = buildServer({ engine, registry, rollup, transitions, version: 'bench', isReady: () => true });
await app.listen({ host: '127.0.0.1', port: 0 });
const port = (app.server.address() as { port: number }).port;
const sample = await (await fetch(`http://127.0.0.1:${port}/api/v1/services/api/instances?status=healthy`)).text();

const healthSample = await (await fetch(`http://127.0.0.1:${port}/health`)).text();
// Bare routes answer fixed bodies of the same sizes: the floor for each endpoint.
const bare = Fastify({ logger: false });
const fixed = JSON.parse(sample);
const fixedHealth = JSON.parse(healthSample);
bare.get('/bare', async () => fixed);
bare.get('/bare-health', async () => fixedHealth);
await bare.listen({ host: '127.0.0.1', port: 0 });
const barePort = (bare.server.address() as { port: number }).port;

// Asynchronous on purpose: the servers under load live in this process's event loop.
async function wrk(url: string): Promise<number> {
  const { stdout: out } = await promisify(execFile)('wrk', ['-t1', `-c${values.connections}`, `-d${values.seconds}s`, url], { encoding: 'utf8' });
  const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!m) throw new Error(`cannot read wrk output:\n${out}`);
  return Number(m[1]);
}

// Interleave two rounds so drift on a shared machine hits both sides.
const runs = { bare: [] as number[], bareHealth: [] as number[], instances: [] as number[], health: [] as number[] };
for (let round = 0; round < 2; round++) {
  runs.bare.push(await wrk(`http://127.0.0.1:${barePort}/bare`));
  runs.bareHealth.push(await wrk(`http://127.0.0.1:${barePort}/bare-health`));
  runs.instances.push(await wrk(`http://127.0.0.1:${port}/api/v1/services/api/instances?status=healthy`));
  runs.health.push(await wrk(`http://127.0.0.1:${port}/health`));
}
const best = (xs: number[]) => Math.max(...xs);
const bareRps = best(runs.bare);
const bareHealthRps = best(runs.bareHealth);
console.log(
  JSON.stringify({
    bench: 'api',
    instances,
    responseBytes: sample.length,
    healthBytes: healthSample.length,
    requestsPerSecond: { bareFastify: Math.round(bareRps), bareFastifyHealthSize: Math.round(bareHealthRps), instancesHealthy: Math.round(best(runs.instances)), health: Math.round(best(runs.health)) },
    ratioToBare: { instancesHealthy: round(best(runs.instances) / bareRps), health: round(best(runs.health) / bareHealthRps) },
    target: 0.7,
    pass: best(runs.instances) / bareRps >= 0.7 && best(runs.health) / bareHealthRps >= 0.7,
  }),
);
await app.close();
await bare.close();
await engine.stop();

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
