/**
 * A large mesh for the dashboard's scale test and bench: `services` ×
 * `instances` instances with one ttl check each, so the real daemon holds
 * them cheaply and the driver makes real transitions by heartbeats.
 */
import type { Daemon } from '../../src/daemon.js';

export interface MeshShape {
  services: number;
  instances: number;
}

export const serviceName = (i: number): string => `svc-${String(i).padStart(4, '0')}`;

/** Config YAML of the mesh: zones z0..z2 by instance, tags team-0..team-9 by service, every 100th service depending on svc-0000. */
export function meshYaml(shape: MeshShape, dbPath: string): string {
  const lines = [
    `storage: { path: "${dbPath}", flush_interval: 1s }`,
    // rise/fall 1: each heartbeat that changes the status is a transition at once.
    'defaults: { rise: 1, fall: 1 }',
    'services:',
  ];
  for (let s = 0; s < shape.services; s++) {
    lines.push(`  ${serviceName(s)}:`);
    if (s > 0 && s % 100 === 0) lines.push(`    depends_on: [${serviceName(0)}]`);
    lines.push('    instances:');
    for (let i = 0; i < shape.instances; i++) {
      lines.push(`      - { id: i${i}, address: "127.0.0.1:9", zone: z${i % 3}, tags: [team-${s % 10}] }`);
    }
    // A long ttl and interval: the scheduler stays quiet; heartbeats drive every change.
    lines.push('    checks: [{ kind: ttl, name: beat, ttl: 1h, interval: 30m }]');
  }
  return `${lines.join('\n')}\n`;
}

export const checkId = (shape: MeshShape, n: number): string => `${serviceName(Math.floor(n / shape.instances) % shape.services)}/i${n % shape.instances}/beat`;

/** Every check HEALTHY (one heartbeat each), then wait until the rollup says so. */
export async function allHealthy(daemon: Daemon, shape: MeshShape): Promise<void> {
  const total = shape.services * shape.instances;
  for (let n = 0; n < total; n++) daemon.engine.heartbeat(checkId(shape, n), 'pass');
  const end = performance.now() + 60_000;
  while (performance.now() < end) {
    let healthy = 0;
    for (let s = 0; s < shape.services; s++) if (daemon.rollup.service(serviceName(s)) === 'HEALTHY') healthy++;
    if (healthy === shape.services) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the mesh did not become HEALTHY within 60 s');
}

/**
 * Flip checks between pass and fail at `perSecond` for at most `seconds`
 * (bounded in count and time): each flip is one check transition. Checks
 * are visited in a fixed stride so the same ones do not flip back at once.
 * Resolves with the number of flips made.
 */
export async function drive(daemon: Daemon, shape: MeshShape, perSecond: number, seconds: number, start = 0): Promise<number> {
  const total = shape.services * shape.instances;
  const failing = new Set<number>();
  const limit = Math.round(perSecond * seconds);
  const tickMs = 50;
  const perTick = (perSecond * tickMs) / 1000;
  const began = performance.now();
  let sent = 0;
  let n = start;
  while (sent < limit && performance.now() - began < seconds * 1000 + 2000) {
    const due = Math.min(limit, Math.floor(((performance.now() - began) / tickMs + 1) * perTick));
    while (sent < due) {
      const k = (n++ * 7919) % total;
      const fail = !failing.has(k);
      if (fail) failing.add(k);
      else failing.delete(k);
      daemon.engine.heartbeat(checkId(shape, k), fail ? 'fail' : 'pass');
      sent++;
    }
    await new Promise((r) => setTimeout(r, tickMs));
  }
  return sent;
}
