/**
 * bench/proxy-alloc: bytes the proxy allocates on the JS heap per proxied
 * request, and where, under wrk load on nginx (1 KB body).
 *
 * Every byte allocated brings the next scavenge closer, and a scavenge
 * pauses every request in flight: allocation per request is the proxy's GC
 * pressure. Unlike CPU time, it barely moves with machine noise, so it shows
 * the effect of a change where timings on a shared VM cannot.
 *
 * The proxy runs in this process under V8's sampling heap profiler, set to
 * count objects that scavenges and full GCs already collected (most of a
 * request's objects die young); the profiler slows the proxy, which leaves
 * bytes per request unchanged. Sites are the allocating function and its
 * two callers (inlined frames included). A run without the profiler before
 * it counts scavenges per request and their pauses.
 *
 *   bash bench/proxy-alloc.sh [--seconds 4] [--warmup 2] [--connections 32] [--interval 256] [--top 15] [--engine lean|node]
 *
 * Prints one JSON line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { ProxyEngine } from '../src/proxy/proxy.js';
import { startBenchProxy } from './lib/bench-proxy.js';
import { freePort, stopAll } from './lib/proc.js';
import { median, round3 } from './lib/stats.js';
import { startNginx } from './lib/targets.js';
import { wrkRun } from './lib/wrk.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '32' },
    interval: { type: 'string', default: '256' },
    top: { type: 'string', default: '15' },
    engine: { type: 'string', default: 'lean' },
  },
});
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const connections = Number(values.connections);
const interval = Number(values.interval);
const top = Number(values.top);
const engine = values.engine as ProxyEngine;
if (!(seconds > 0 && warmup >= 0 && connections >= 1 && interval >= 1 && top >= 0 && (engine === 'lean' || engine === 'node'))) {
  throw new Error('usage: proxy-alloc.js [--seconds N>0] [--warmup N>=0] [--connections C>=1] [--interval BYTES>=1] [--top N>=0] [--engine lean|node]');
}

/** The parts of a sampled heap profile read here (HeapProfiler.SamplingHeapProfile). */
interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

const dir = mkdtempSync(join(tmpdir(), 'healthmesh-bench-alloc-'));
try {
  const nginx = await startNginx(dir, { bodyBytes: 1024 });
  const port = await freePort();
  const proxy = await startBenchProxy(port, `127.0.0.1:${nginx.port}`, engine);
  try {
    process.stderr.write(`bench/proxy-alloc: warm-up ${warmup} s\n`);
    if (warmup > 0) await wrkRun(port, 1, connections, warmup);
    // Scavenges and their pauses, without the profiler (it slows the proxy, not the GC).
    const pauses: number[] = [];
    const gcs = new PerformanceObserver((list) => {
      for (const e of list.getEntries())
        if ((e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) pauses.push(e.duration);
    });
    gcs.observe({ entryTypes: ['gc'] });
    const plain = await wrkRun(port, 1, connections, seconds);
    gcs.disconnect();
    const session = new Session();
    session.connect();
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: interval,
      includeObjectsCollectedByMinorGC: true,
      includeObjectsCollectedByMajorGC: true,
    });
    const load = await wrkRun(port, 1, connections, seconds);
    const { profile } = await session.post('HeapProfiler.stopSampling');
    session.disconnect();
    const sites = new Map<string, number>();
    let total = 0;
    const walk = (node: ProfileNode, callers: string[]): void => {
      const f = node.callFrame;
      const name = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
      if (node.selfSize > 0) {
        total += node.selfSize;
        const site = [name, ...callers.slice(-2).reverse()].join(' < ');
        sites.set(site, (sites.get(site) ?? 0) + node.selfSize);
      }
      for (const c of node.children) walk(c, [...callers, name]);
    };
    walk(profile.head as ProfileNode, []);
    const perRequest = (bytes: number): number => Math.round(bytes / load.requests);
    const out = {
      bench: 'proxy-alloc',
      node: process.version,
      engine,
      wrk: { connections, seconds, warmup },
      samplingIntervalBytes: interval,
      requests: load.requests,
      bytesPerRequest: perRequest(total),
      withoutProfiler: {
        rps: plain.rps,
        scavengesPer10kRequests: round3((pauses.length / plain.requests) * 10_000),
        scavengeMs: { p50: pauses.length > 0 ? round3(median(pauses)) : 0, max: round3(Math.max(0, ...pauses)) },
      },
      topSites: [...sites]
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(([site, bytes]) => ({ bytesPerRequest: perRequest(bytes), site })),
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    await proxy.close();
  }
} finally {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
}
