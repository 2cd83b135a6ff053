/**
 * Feeds a {@link BalancerSet} from a running healthmesh daemon instead of an
 * in-process engine (`healthmesh proxy --follow URL`): it holds the daemon's
 * event stream (`GET /api/v1/events`, Server-Sent Events of transitions) and,
 * for each transition, re-reads the instance list of that service only. A
 * slow full refresh picks up what sends no transition (a deregistration,
 * drifting scores). When the daemon is unreachable the last known members
 * stay and the stream reconnects with backoff, resuming by Last-Event-ID.
 */
import { request } from 'undici';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { HealthStatus } from '../core/status.js';
import type { BalancerSet } from './balancer-set.js';
import type { UpstreamMember } from './service-balancer.js';

/** Options of {@link FollowFeed}. */
export interface FollowFeedOptions {
  set: BalancerSet;
  /** Base URL of the daemon, e.g. http://127.0.0.1:7400. */
  url: string;
  /** Bearer token when the daemon protects reads. */
  token?: string;
  clock: Clock;
  logger: Logger;
  /** Full refresh period, ms (default 10 000). */
  refreshMs?: number;
  /** Limit of one instance-list request, ms (default 5000). */
  requestTimeoutMs?: number;
}

interface InstanceItem {
  id: string;
  address: string;
  weight: number;
  zone: string | null;
  status: HealthStatus;
  score: number;
}

const MAX_EVENT_BYTES = 1024 * 1024;

/** Follows a daemon's state into the balancers. */
export class FollowFeed {
  private readonly base: string;
  private readonly headers: Record<string, string>;
  private readonly abort = new AbortController();
  private lastEventId: string | undefined;
  private backoffMs = 250;
  private refreshTimer: TimerHandle | undefined;
  private reconnectTimer: TimerHandle | undefined;
  private readonly fetching = new Set<string>();
  private readonly again = new Set<string>();
  private connected = false;
  private stopped = false;
  private lastError: string | null = null;

  constructor(private readonly options: FollowFeedOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.headers = options.token ? { authorization: `Bearer ${options.token}` } : {};
  }

  /** Read every service once (resolves when done, even if the daemon is down), then follow. */
  async start(): Promise<void> {
    await Promise.all(this.options.set.services().map((s) => this.refresh(s)));
    void this.stream();
    const every = this.options.refreshMs ?? 10_000;
    const tick = (): void => {
      for (const s of this.options.set.services()) void this.refresh(s);
      this.refreshTimer = this.options.clock.setTimeout(tick, every);
    };
    this.refreshTimer = this.options.clock.setTimeout(tick, every);
  }

  /** Whether the event stream is up, and the last error seen. */
  status(): { connected: boolean; lastEventId: string | null; lastError: string | null } {
    return { connected: this.connected, lastEventId: this.lastEventId ?? null, lastError: this.lastError };
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort();
    if (this.refreshTimer !== undefined) this.options.clock.clearTimeout(this.refreshTimer);
    if (this.reconnectTimer !== undefined) this.options.clock.clearTimeout(this.reconnectTimer);
  }

  /** Re-read one service's instances; a request already running is followed by one more. */
  async refresh(service: string): Promise<void> {
    if (this.stopped) return;
    if (this.fetching.has(service)) {
      this.again.add(service);
      return;
    }
    this.fetching.add(service);
    try {
      do {
        this.again.delete(service);
        const members = await this.fetchMembers(service);
        if (members) this.options.set.setMembers(service, members);
      } while (this.again.has(service) && !this.stopped);
    } finally {
      this.fetching.delete(service);
    }
  }

  private async fetchMembers(service: string): Promise<UpstreamMember[] | undefined> {
    const members: UpstreamMember[] = [];
    let cursor: string | null = null;
    try {
      do {
        const qs = `status=any&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const res = await request(`${this.base}/api/v1/services/${encodeURIComponent(service)}/instances?${qs}`, {
          headers: this.headers,
          signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.options.requestTimeoutMs ?? 5000)]),
        });
        if (res.statusCode !== 200) {
          await res.body.dump();
          throw new Error(`HTTP ${res.statusCode}`);
        }
        const page = (await res.body.json()) as { items: InstanceItem[]; nextCursor: string | null };
        for (const i of page.items) {
          members.push({ id: i.id, address: i.address, weight: i.weight, status: i.status, score: i.score, ...(i.zone ? { zone: i.zone } : {}) });
        }
        cursor = page.nextCursor;
      } while (cursor);
      return members;
    } catch (err) {
      if (!this.stopped) {
        this.lastError = `${service}: ${(err as Error).message}`;
        this.options.logger.warn(
          { service, url: this.base, err: (err as Error).message },
          'cannot read instances from the followed daemon; keeping the last known ones',
        );
      }
      return undefined;
    }
  }

  /** Hold the SSE stream; on each transition refresh its service. Reconnects until stopped. */
  private async stream(): Promise<void> {
    if (this.stopped) return;
    try {
      const res = await request(`${this.base}/api/v1/events`, {
        headers: { ...this.headers, accept: 'text/event-stream', ...(this.lastEventId ? { 'last-event-id': this.lastEventId } : {}) },
        signal: this.abort.signal,
      });
      if (res.statusCode !== 200) {
        await res.body.dump();
        throw new Error(`HTTP ${res.statusCode} from /api/v1/events`);
      }
      this.connected = true;
      this.backoffMs = 250;
      // Events may have been missed while disconnected and beyond the daemon's ring: re-read all.
      for (const s of this.options.set.services()) void this.refresh(s);
      let buffer = '';
      res.body.setEncoding('utf8');
      for await (const chunk of res.body as AsyncIterable<string>) {
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          this.onEvent(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
        if (buffer.length > MAX_EVENT_BYTES) throw new Error('event stream: an event exceeds 1 MiB');
      }
      throw new Error('event stream ended');
    } catch (err) {
      this.connected = false;
      if (this.stopped) return;
      this.lastError = (err as Error).message;
      this.options.logger.warn(
        { url: this.base, err: (err as Error).message, retryMs: this.backoffMs },
        'event stream of the followed daemon lost; reconnecting',
      );
      this.reconnectTimer = this.options.clock.setTimeout(() => void this.stream(), this.backoffMs);
      this.backoffMs = Math.min(this.backoffMs * 2, 10_000);
    }
  }

  private onEvent(block: string): void {
    let id: string | undefined;
    let data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith('id:')) id = line.slice(3).trim();
      else if (line.startsWith('data:')) data += line.slice(5).trim();
    }
    if (id !== undefined) this.lastEventId = id;
    if (!data) return;
    try {
      const { service } = JSON.parse(data) as { service?: unknown };
      if (typeof service === 'string' && this.options.set.balancer(service)) void this.refresh(service);
    } catch {
      this.options.logger.warn({ url: this.base }, 'ignored a malformed event from the followed daemon');
    }
  }
}
