import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium (scripts/install-test-peers.sh installs it). */
export const CHROMIUM = '/usr/bin/chromium';

/** Headless, no sandbox (root in CI), and nothing that phones home. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Chromium with a fresh profile (launchPersistentContext is how Playwright takes a user data dir). */
export async function launchChromium(
  options: { colorScheme?: 'light' | 'dark'; viewport?: { width: number; height: number } } = {},
): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'hm-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    colorScheme: options.colorScheme ?? 'light',
    viewport: options.viewport ?? { width: 1280, height: 900 },
    reducedMotion: 'reduce',
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Time the page's main thread spent while `during` ran: wall and CPU, and CPU by kind of work. */
export interface MainThreadTime {
  /** Wall time of its tasks, ms (grows when other processes take the CPU). */
  wallMs: number;
  /** CPU time of its tasks, ms (what the page itself cost). */
  cpuMs: number;
  /** CPU ms of the main kinds of work (script, style, layout, paint…). */
  byKind: Record<string, number>;
  /** How long `during` took, ms. */
  elapsedMs: number;
}

const KINDS = [
  'FunctionCall',
  'TimerFire',
  'EventDispatch',
  'UpdateLayoutTree',
  'Layout',
  'PrePaint',
  'Paint',
  'Layerize',
  'Commit',
  'MinorGC',
  'MajorGC',
  'ParseHTML',
  'EvaluateScript',
  'v8.compile',
];

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  dur?: number;
  tdur?: number;
  cat?: string;
  args?: { name?: string };
}

/**
 * Trace the browser while `during` runs and add up the renderer main
 * thread's top-level tasks (RunTask). With several renderers (a navigation
 * may change process) the busiest main thread is the page's.
 */
export async function traceMainThread(context: BrowserContext, page: Page, during: () => Promise<void>): Promise<MainThreadTime> {
  const cdp = await context.newCDPSession(page);
  const events: TraceEvent[] = [];
  // The protocol types trace events as string maps; they are JSON objects with numbers too.
  cdp.on('Tracing.dataCollected', (e) => events.push(...(e.value as unknown as TraceEvent[])));
  const complete = new Promise<void>((resolve) => cdp.once('Tracing.tracingComplete', () => resolve()));
  await cdp.send('Tracing.start', { categories: 'toplevel,devtools.timeline,disabled-by-default-devtools.timeline,v8', transferMode: 'ReportEvents' });
  const began = performance.now();
  await during();
  const elapsedMs = performance.now() - began;
  await cdp.send('Tracing.end');
  await complete;
  await cdp.detach();
  const mains = new Set(events.filter((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
  const per = new Map<string, { wall: number; cpu: number; kinds: Record<string, number> }>();
  for (const e of events) {
    const key = `${e.pid}:${e.tid}`;
    if (e.ph !== 'X' || !mains.has(key)) continue;
    let t = per.get(key);
    if (!t) {
      t = { wall: 0, cpu: 0, kinds: {} };
      per.set(key, t);
    }
    if (e.name === 'RunTask') {
      t.wall += (e.dur ?? 0) / 1000;
      t.cpu += (e.tdur ?? e.dur ?? 0) / 1000;
    } else if (KINDS.includes(e.name)) t.kinds[e.name] = (t.kinds[e.name] ?? 0) + (e.tdur ?? 0) / 1000;
  }
  const busiest = [...per.values()].sort((a, b) => b.cpu - a.cpu)[0] ?? { wall: 0, cpu: 0, kinds: {} };
  return { wallMs: busiest.wall, cpuMs: busiest.cpu, byKind: busiest.kinds, elapsedMs };
}
