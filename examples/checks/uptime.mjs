// A custom check: any ES module exporting an async function of ctx.
// It runs in a worker thread with a timeout and a memory limit.
import { readFile } from 'node:fs/promises';

export default async function uptime(ctx) {
  const seconds = Number((await readFile('/proc/uptime', 'utf8')).split(' ')[0]);
  const minimum = ctx.params.min_seconds ?? 60;
  return {
    status: seconds >= minimum ? 'HEALTHY' : 'DEGRADED',
    output: `up ${Math.round(seconds)} s`,
    metrics: { uptime_seconds: seconds },
  };
}
