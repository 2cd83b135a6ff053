/**
 * One POST for the HTTP notifiers, bounded every way: the whole try ends at
 * the signal (the notifier's timeout), undici's header and body timeouts cut
 * a receiver that goes silent, and at most MAX_ANSWER_BYTES of the answer
 * are read (the rest is dropped with the connection) so a huge answer
 * cannot bloat the daemon. Error texts name the failure, never the URL (it
 * may hold a token) nor any secret.
 */
import type { Agent } from 'undici';
import type { DeliveryOutcome } from '../types.js';

/** undici's index is loaded on the first POST: 7 MB of RSS that a daemon whose alerts never fire does not need. */
let undici: Promise<typeof import('undici')> | null = null;
const loadUndici = () => {
  undici ??= import('undici');
  return undici;
};

/** Bytes of an answer read at most. */
export const MAX_ANSWER_BYTES = 64 * 1024;

/** An HTTP client for one notifier: its own small connection pool. */
export class HttpPoster {
  private agent: Agent | null = null;
  private closed = false;

  constructor(
    private readonly timeoutMs: number,
    private readonly secrets: readonly string[],
  ) {}

  /** POST `body` to `url`; 2xx is delivered, 408/429/5xx and transport failures may be retried, other answers not. */
  async post(url: string, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<DeliveryOutcome> {
    try {
      const { Agent, request } = await loadUndici();
      // Closed while undici loaded: no agent (and no socket) may outlive close().
      if (this.closed) return { ok: false, retryable: true, error: 'notifier closed' };
      const timeoutMs = this.timeoutMs;
      this.agent ??= new Agent({
        connections: 4,
        connect: { timeout: timeoutMs },
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        keepAliveTimeout: 10_000,
      });
      const res = await request(url, { method: 'POST', headers, body, signal, dispatcher: this.agent });
      let read = 0;
      let head = '';
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        read += chunk.length;
        if (head.length < 200) head += chunk.toString('utf8', 0, Math.min(chunk.length, 200));
        if (read > MAX_ANSWER_BYTES) break; // leaving the loop destroys the body and its connection
      }
      const status = res.statusCode;
      if (status >= 200 && status < 300) return { ok: true, detail: `HTTP ${status}` };
      const retryable = status === 408 || status === 429 || status >= 500;
      return { ok: false, retryable, error: this.redact(`HTTP ${status}${head ? `: ${oneLine(head)}` : ''}`) };
    } catch (err) {
      if (signal.aborted) return { ok: false, retryable: true, error: `timed out after ${this.timeoutMs} ms` };
      const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
      const code = e.code ?? e.cause?.code ?? e.name;
      return { ok: false, retryable: true, error: this.redact(`${code}: ${oneLine(e.cause?.message ?? e.message)}`) };
    }
  }

  /** Replace every secret (and the URL's path and query) with ***. */
  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) if (s.length >= 4) out = out.split(s).join('***');
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.agent?.close();
  }
}

/** The parts of a URL that must not be shown: the whole URL, its path and query, its userinfo. */
export function urlSecrets(url: string): string[] {
  const u = new URL(url);
  const out = [url];
  if (u.pathname.length > 1 || u.search) out.push(`${u.pathname}${u.search}`);
  if (u.password) out.push(u.password);
  if (u.username) out.push(u.username);
  return out;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, 200);
}
