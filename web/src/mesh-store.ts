/**
 * The mesh as the page knows it: loaded once from /api/v1/web/summary, then
 * kept current by the live stream. Updates are applied at once and
 * announced at once when the page was quiet, then at most once per
 * NOTIFY_MS: 100 transitions a second cost one render a second, not a
 * hundred (each render repaints the reordered table, the main cost).
 */
import { getSummary, EVENTS_PATH, type LiveTick, type LiveTransition, type ServiceSummary, type Status, type UptimeSource } from './api';
import { connectLive, type LiveState } from './live';

const NOTIFY_MS = 1000;

/** A service row; replaced (never mutated) when it changes, so rows render again only then. */
export type ServiceRow = ServiceSummary;

type Listener = () => void;
type TransitionListener = (t: LiveTransition) => void;

export class MeshStore {
  services = new Map<string, ServiceRow>();
  mesh: Status = 'UNKNOWN';
  uptimeSource: UptimeSource = 'none';
  live: LiveState = 'connecting';
  liveDetail = '';
  loaded = false;
  error: string | null = null;
  /** Bumped on every announced change (views memoize on it). */
  version = 0;
  /** Transitions received since the page opened (shown, and read by the tests). */
  received = 0;
  private lastEventId: string | null = null;
  private readonly listeners = new Set<Listener>();
  private readonly transitionListeners = new Set<TransitionListener>();
  private notifyTimer: ReturnType<typeof setTimeout> | undefined;
  private lastNotify = -Infinity;
  private stop: (() => void) | null = null;
  private loading: Promise<void> | null = null;

  /** Load the mesh, then follow the stream from the summary's id. */
  async start(): Promise<void> {
    await this.load();
    this.stop = connectLive({
      url: EVENTS_PATH,
      lastEventId: this.lastEventId,
      onEvent: (type, data) => this.onEvent(type, data),
      onState: (state, detail) => {
        if (state === this.live && (detail ?? '') === this.liveDetail) return;
        this.live = state;
        this.liveDetail = detail ?? '';
        this.notifyNow();
      },
    });
  }

  close(): void {
    this.stop?.();
    clearTimeout(this.notifyTimer);
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every transition as it arrives (views of one service or check follow theirs). */
  onTransition(listener: TransitionListener): () => void {
    this.transitionListeners.add(listener);
    return () => this.transitionListeners.delete(listener);
  }

  /** Read the whole mesh again (first load, and after a `reset`). */
  load(): Promise<void> {
    this.loading ??= (async () => {
      try {
        const summary = await getSummary();
        const next = new Map<string, ServiceRow>();
        for (const s of summary.services) next.set(s.name, s);
        this.services = next;
        this.mesh = summary.mesh;
        this.uptimeSource = summary.uptimeSource;
        this.lastEventId = String(summary.lastEventId);
        this.loaded = true;
        this.error = null;
      } catch (err) {
        this.error = (err as Error).message;
      } finally {
        this.loading = null;
        this.notifyNow();
      }
    })();
    return this.loading;
  }

  private onEvent(type: string, data: string): void {
    if (type === 'transition') this.applyTransition(JSON.parse(data) as LiveTransition);
    else if (type === 'tick') this.applyTick(JSON.parse(data) as LiveTick);
    else if (type === 'reset') void this.load();
  }

  private applyTransition(t: LiveTransition): void {
    this.received++;
    for (const s of t.svcs) {
      const row = this.services.get(s.name);
      const spark = row ? row.spark.slice() : new Array<number | null>(60).fill(null);
      const last = spark.length - 1;
      spark[last] = Math.min(spark[last] ?? 100, s.score);
      this.services.set(s.name, {
        ...(row ?? { name: s.name, tags: [], zones: [], dependsOn: [], critical: true }),
        status: s.status,
        score: s.score,
        cause: s.cause,
        counts: s.counts,
        spark,
      });
    }
    this.mesh = t.mesh;
    for (const l of this.transitionListeners) l(t);
    this.notifySoon();
  }

  /** A new minute: shift every sparkline by one, the closed minute as the server saw it. */
  private applyTick(tick: LiveTick): void {
    for (const [name, closed, score] of tick.services) {
      const row = this.services.get(name);
      if (!row) continue;
      const spark = row.spark.slice(1);
      if (closed !== null) spark[spark.length - 1] = closed;
      spark.push(score);
      this.services.set(name, { ...row, score, spark });
    }
    this.notifySoon();
  }

  private notifySoon(): void {
    if (this.notifyTimer !== undefined) return;
    this.notifyTimer = setTimeout(() => this.notifyNow(), Math.max(0, this.lastNotify + NOTIFY_MS - performance.now()));
  }

  private notifyNow(): void {
    clearTimeout(this.notifyTimer);
    this.notifyTimer = undefined;
    this.lastNotify = performance.now();
    this.version++;
    for (const l of this.listeners) l();
  }
}
