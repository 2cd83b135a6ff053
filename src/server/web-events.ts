import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WebFeed } from './web-feed.js';

/** A comment line this often keeps proxies and the client's stall detector from closing an idle stream, ms. */
const KEEP_ALIVE_MS = 15_000;
/** Written bytes a slow client may leave unread before it is dropped (it then reconnects and resumes). */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

/**
 * GET /api/v1/web/events: the dashboard's Server-Sent Events. With a
 * Last-Event-ID (header, or `last_event_id` in the query for clients that
 * cannot set headers) the transitions missed since are replayed; when they
 * cannot be (the id is from before a restart, or they left the log) a
 * `reset` event tells the page to read the whole state again. Without one
 * the stream starts now, after a `hello` event carrying the current id.
 */
export function streamWebEvents(request: FastifyRequest, reply: FastifyReply, feed: WebFeed): void {
  const header = request.headers['last-event-id'];
  const query = (request.query as { last_event_id?: string }).last_event_id;
  const given = Array.isArray(header) ? header[0] : (header ?? query);
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  let open = true;
  let keepAlive: NodeJS.Timeout | undefined;
  let off = (): void => {};
  const close = (): void => {
    if (!open) return;
    open = false;
    clearInterval(keepAlive);
    off();
  };
  const write = (frame: string): void => {
    if (!open) return;
    if (res.writableLength > MAX_BUFFERED_BYTES) {
      // Too far behind: drop it rather than buffer without bound; it resumes with Last-Event-ID.
      close();
      res.destroy();
      return;
    }
    res.write(frame);
  };
  res.write('retry: 2000\n\n');
  // Replay and subscription happen in one synchronous step: no transition can fall between them.
  off = feed.subscribe({
    write,
    end: () => {
      close();
      res.end();
    },
  });
  const frames = given === undefined || given === '' ? [] : feed.replay(given);
  if (frames === null) write(`event: reset\ndata: ${JSON.stringify({ lastEventId: feed.lastEventId })}\n\n`);
  else if (frames.length === 0 && !given) write(`event: hello\ndata: ${JSON.stringify({ lastEventId: feed.lastEventId })}\n\n`);
  else for (const f of frames) write(f);
  keepAlive = setInterval(() => write(': keep-alive\n\n'), KEEP_ALIVE_MS);
  request.raw.on('close', close);
  res.on('close', close);
  res.on('error', close);
}
