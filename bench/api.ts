/**
 * bench/api: the load balancer's question
 * (/api/v1/services/:service/instances) three ways.
 *
 * --case wrk (default): throughput of `?status=healthy` and of /health,
 *   beside a bare fastify route answering a fixed JSON body of the same size,
 *   all in this process and loaded by wrk (Debian `wrk`) from another process.
 * --case watchers: `--services` services (default 1,000), one blocking query
 *   (`index=N&wait=5m`) watching each, and `--rate` ttl transitions a second
 *   (default 100) on services taken in turn for `--seconds`; reports how many
 *   blocking queries return per transition (the ideal is 1: only the watcher
 *   of the changed service).
 * --case filter: one service of `--instances` instances (default 10,000) of
 *   which `--healthy` (default 10) are HEALTHY; reports the time of one
 *   request that misses the answer cache, for `status=healthy` and for the
 *   first page of `status=any`, beside /livez (the floor of app.inject).
 *
 *   npm run build && node dist/bench/api.js [--case wrk|watchers|filter] [--instances N] [--seconds 5] ...
 */
import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { parseArgs, promisify } from 'node:util';
import Fastify from 'fastify';
import type { CheckRunner, CheckSpec } from '../src/core/check.js';
import { realClock } from '../src/core/clock.js';
import { realRandom } from '../src/core/random.js';
import { createRunner } from '../src/checks/index.js';
import { parseConfig } from '../src/config/load.js';
import { Engine } from '../src/engine.js';
import { Registry } from '../src/registry/registry.js';
import { buildServer } from '../src/server/app.js';
import { TransitionLog } from '../src/server/event-log.js';
import { StatusRollup } from '../src/status/rollup.js';
import { median } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    case: { type: 'string', default: 'wrk' },
    instances: { type: 'string' },
    healthy: { type: 'string', default: '10' },
    services: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '100' },
    requests: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '32' },
  },
});

/** Engine, registry, rollup and server on `yaml`, wired as the daemon wires them. */
async function daemonLike(yaml: string, runnerFor: (spec: CheckSpec) => CheckRunner) {
  const engine = new Engine({ clock: realClock, random: realRandom, concurrency: 256, spreadFirstRun: false, runnerFor });
  const config = parseConfig(yaml, { env: {} });
  const registry = new Registry(engine, config, undefined, realClock);
  const rollup = new StatusRollup((s) => registry.minHealthy(s));
  rollup.attach(engine.bus);
  const transitions = new TransitionLog();
  transitions.attach(engine.bus);
  registry.applyConfig(config);
  const app = buildServer({ engine, registry, rollup, transitions, version: 'bench', isReady: () => true, clock: realClock });
  await app.ready();
  return { engine, registry, rollup, app };
}

/** Resolve once `done()` holds, polling every 20 ms. */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((r) => setTimeout(r, 20));
}

const ok: CheckRunner = { run: async () => ({ status: 'HEALTHY', reason: 'ok', output: 'ok' }) };
const down: CheckRunner = { run: async () => ({ status: 'UNHEALTHY', reason: 'connect_refused', output: 'refused' }) };

async function wrkCase(): Promise<unknown> {
  const instances = Number(values.instances ?? 50);
  const yaml = `services:
  api:
    instances:
${Array.from({ length: instances }, (_, i) => `      - { id: i${i}, address: "10.0.${i >> 8}.${i & 255}:80", zone: z${i % 3} }`).join('\n')}
    checks: [{ kind: tcp, interval: 1h }]
  other:
    instances: [{ id: o1, address: "10.1.0.1:80" }]
    checks: [{ kind: tcp, interval: 1h }]
`;
  const { app, engine, rollup } = await daemonLike(yaml, () => ok);
  await until(() => rollup.serviceCounts('api').HEALTHY === instances);
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
  await app.close();
  await bare.close();
  await engine.stop();
  return {
    instances,
    responseBytes: sample.length,
    healthBytes: healthSample.length,
    requestsPerSecond: {
      bareFastify: Math.round(bareRps),
      bareFastifyHealthSize: Math.round(bareHealthRps),
      instancesHealthy: Math.round(best(runs.instances)),
      health: Math.round(best(runs.health)),
    },
    ratioToBare: { instancesHealthy: round(best(runs.instances) / bareRps), health: round(best(runs.health) / bareHealthRps) },
    target: 0.7,
    pass: best(runs.instances) / bareRps >= 0.7 && best(runs.health) / bareHealthRps >= 0.7,
  };
}

async function watchersCase(): Promise<unknown> {
  const services = Number(values.services);
  const rate = Number(values.rate);
  const seconds = Number(values.seconds);
  const yaml = `defaults: { rise: 1, fall: 1 }
services:
${Array.from({ length: services }, (_, i) => `  s${i}: { instances: [{ id: i0, address: "10.${i >> 16}.${(i >> 8) & 255}.${i & 255}:80" }], checks: [{ kind: ttl, ttl: 1h }] }`).join('\n')}
`;
  const { app, engine, registry } = await daemonLike(yaml, (spec) => createRunner(spec, { clock: realClock, random: realRandom }));
  const names = Array.from({ length: services }, (_, i) => `s${i}`);
  let transitions = 0;
  engine.bus.on('transition', () => transitions++);
  // Every check passes once (UNKNOWN → HEALTHY) before anything is counted.
  for (const s of names) engine.heartbeat(`${s}/i0/ttl`, 'pass');
  await until(() => transitions >= services);

  let counting = false;
  let stopped = false;
  let wakeups = 0;
  const watch = async (service: string): Promise<void> => {
    let index = Number((await app.inject(`/api/v1/services/${service}/instances`)).headers['x-healthmesh-index']);
    while (!stopped) {
      const res = await app.inject(`/api/v1/services/${service}/instances?index=${index}&wait=5m`);
      if (counting) wakeups++;
      index = Number(res.headers['x-healthmesh-index']);
    }
  };
  const watchers = names.map((s) => watch(s));
  await new Promise((r) => setTimeout(r, 500)); // every watcher parked on its blocking query

  transitions = 0;
  counting = true;
  const failing = new Set<string>();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  const timer = setInterval(() => {
    const id = `${names[next++ % services]}/i0/ttl`;
    engine.heartbeat(id, failing.has(id) ? 'pass' : 'fail');
    if (!failing.delete(id)) failing.add(id);
  }, 1000 / rate);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  clearInterval(timer);
  await new Promise((r) => setTimeout(r, 200)); // let the last wake-ups land
  counting = false;
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  stopped = true;
  registry.bump(); // a change everywhere releases every watcher
  await Promise.all(watchers);
  await app.close();
  await engine.stop();
  return {
    services,
    watchers: services,
    transitions,
    transitionsPerSecond: round(transitions / elapsed),
    wakeups,
    wakeupsPerTransition: round(wakeups / transitions),
    target: 1,
    cpuMsPerTransition: round((cpu.user + cpu.system) / 1000 / transitions),
  };
}

async function filterCase(): Promise<unknown> {
  const instances = Number(values.instances ?? 10_000);
  const healthy = Number(values.healthy);
  const requests = Number(values.requests);
  const yaml = `services:
  big:
    instances:
${Array.from({ length: instances }, (_, i) => `      - { id: i${String(i).padStart(5, '0')}, address: "10.0.${i >> 8}.${i & 255}:80" }`).join('\n')}
    checks: [{ kind: tcp, interval: 1h, timeout: 1m }]
`;
  // The first runs start while 10,000 checks are being added: a short timeout would fail some on a busy machine.
  // The healthy ones are spread over the whole id range.
  const step = Math.floor(instances / healthy);
  const { app, engine, rollup } = await daemonLike(yaml, (spec) =>
    Number(spec.instance.slice(1)) % step === 0 && Number(spec.instance.slice(1)) / step < healthy ? ok : down,
  );
  await until(() => rollup.serviceCounts('big').HEALTHY + rollup.serviceCounts('big').UNHEALTHY === instances);

  /** Median µs of one request; each URL is new (an unused cursor before every id), so the cache never answers. */
  const time = async (url: (i: number) => string, check: (body: string) => void): Promise<number> => {
    const us: number[] = [];
    for (let i = 0; i < requests; i++) {
      const t = performance.now();
      const res = await app.inject(url(i));
      us.push((performance.now() - t) * 1000);
      if (i === 0) check(res.body);
    }
    return Math.round(median(us));
  };
  const before = (i: number) => Buffer.from(`!${i}`).toString('base64url');
  const livez = await time(
    () => '/livez',
    () => {},
  );
  const healthyUs = await time(
    (i) => `/api/v1/services/big/instances?status=healthy&cursor=${before(i)}`,
    (body) => {
      if (JSON.parse(body).items.length !== healthy) throw new Error(`expected ${healthy} healthy instances: ${body.slice(0, 200)}`);
    },
  );
  const anyUs = await time(
    (i) => `/api/v1/services/big/instances?status=any&limit=100&cursor=${before(i)}`,
    (body) => {
      if (JSON.parse(body).items.length !== 100) throw new Error('expected a page of 100');
    },
  );
  await app.close();
  await engine.stop();
  return { instances, healthy, requests, medianUs: { livez, healthyCacheMiss: healthyUs, anyFirstPage100CacheMiss: anyUs } };
}

const cases: Record<string, () => Promise<unknown>> = { wrk: wrkCase, watchers: watchersCase, filter: filterCase };
const run = cases[values.case];
if (!run) throw new Error(`--case: "${values.case}" is not one of ${Object.keys(cases).join(', ')}`);
console.log(JSON.stringify({ bench: 'api', case: values.case, ...((await run()) as object) }));

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
