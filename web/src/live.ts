/**
 * Server-Sent Events over fetch() rather than EventSource: EventSource cannot
 * send the Authorization header that protected reads need, and its
 * reconnection cannot be told to back off. This one resumes with
 * Last-Event-ID like EventSource, honours `retry:`, backs off while the daemon
 * is away, and treats a stream silent for STALL_MS (the server writes a
 * keep-alive every 15 s) as dead.
 */
import { authHeaders } from './api';
import { askToken } from './auth';

export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'offline';

export interface LiveOptions {
  url: string;
  /** The id to resume after on the first connection (then the last one received). */
  lastEventId: string | null;
  onEvent(type: string, data: string, id: string | null): void;
  onState(state: LiveState, detail?: string): void;
}

const STALL_MS = 45_000;
const MAX_BACKOFF_MS = 10_000;

/** Connect and keep connected until the returned function is called. */
export function connectLive(options: LiveOptions): () => void {
  let lastEventId = options.lastEventId;
  let retryMs = 1000;
  let failures = 0;
  let stopped = false;
  let controller: AbortController | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const schedule = (): void => {
    if (stopped) return;
    // Backoff doubles from the server's retry, capped, so a restarting daemon is found within seconds.
    const wait = Math.min(MAX_BACKOFF_MS, retryMs * 2 ** Math.min(failures, 4));
    failures++;
    timer = setTimeout(run, wait);
  };

  async function run(): Promise<void> {
    if (stopped) return;
    controller = new AbortController();
    const ctl = controller;
    let stall: ReturnType<typeof setTimeout> | undefined;
    const armStall = (): void => {
      clearTimeout(stall);
      stall = setTimeout(() => ctl.abort(), STALL_MS);
    };
    options.onState(failures === 0 ? 'connecting' : 'reconnecting');
    try {
      const res = await fetch(options.url, {
        headers: { accept: 'text/event-stream', ...authHeaders(), ...(lastEventId !== null ? { 'last-event-id': lastEventId } : {}) },
        cache: 'no-store',
        signal: ctl.signal,
      });
      if (res.status === 401) {
        options.onState('offline', 'the token was refused');
        if (await askToken('This daemon protects its API (server.protect_reads): enter its token to read.')) return run();
        return;
      }
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      failures = 0;
      options.onState('live');
      armStall();
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      let type = '';
      let data: string[] = [];
      let id: string | null = null;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        armStall();
        buffer += value;
        for (let nl = buffer.search(/\r\n|\r|\n/); nl >= 0; nl = buffer.search(/\r\n|\r|\n/)) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + (buffer[nl] === '\r' && buffer[nl + 1] === '\n' ? 2 : 1));
          if (line === '') {
            if (data.length) {
              if (id !== null) lastEventId = id;
              options.onEvent(type || 'message', data.join('\n'), id);
            }
            type = '';
            data = [];
            id = null;
            continue;
          }
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const val = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') type = val;
          else if (field === 'data') data.push(val);
          else if (field === 'id') id = val;
          else if (field === 'retry' && /^\d+$/.test(val)) retryMs = Number(val);
        }
      }
    } catch (err) {
      if (stopped) return;
      options.onState('reconnecting', (err as Error).message);
    } finally {
      clearTimeout(stall);
    }
    if (!stopped) {
      options.onState('reconnecting');
      schedule();
    }
  }

  void run();
  return () => {
    stopped = true;
    clearTimeout(timer);
    controller?.abort();
  };
}
