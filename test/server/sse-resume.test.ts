import { request as httpRequest } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { T0 } from '../store/contract.js';
import { DOWN, startHistoryDaemon, type HistoryDaemon } from '../store/history-harness.js';
import { waitFor } from '../helpers/wait.js';

const root = mkdtempSync(join(tmpdir(), 'healthmesh-sse-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let fileNo = 0;
const freshPath = (): string => join(root, `s${fileNo++}`, 'history.db');

interface SseEvent {
  id: number;
  event: string;
  data: { id?: number; check?: string; to?: string; reason?: string; lastId?: number };
}

/**
 * Connect to /api/v1/events with `lastEventId` and collect events until `done` says so; `onOpen` is
 * called when the response head arrives (the server subscribes to the log before it sends the head).
 */
async function events(d: HistoryDaemon, lastEventId: string | undefined, done: (events: SseEvent[]) => boolean, onOpen = (): void => {}): Promise<SseEvent[]> {
  if (!d.app.server.listening) await d.app.listen({ host: '127.0.0.1', port: 0 });
  const port = (d.app.server.address() as { port: number }).port;
  return new Promise<SseEvent[]>((resolve, reject) => {
    let text = '';
    const parsed: SseEvent[] = [];
    const headers: Record<string, string> = lastEventId === undefined ? {} : { 'last-event-id': lastEventId };
    const req = httpRequest({ host: '127.0.0.1', port, path: '/api/v1/events', headers }, (res) => {
      onOpen();
      res.on('data', (chunk: Buffer) => {
        text += chunk;
        for (let end = text.indexOf('\n\n'); end >= 0; end = text.indexOf('\n\n')) {
          const block = text.slice(0, end);
          text = text.slice(end + 2);
          const field = (name: string) => [...block.matchAll(/^(\w+): (.*)$/gm)].find((m) => m[1] === name)?.[2];
          const event = field('event');
          if (event) parsed.push({ id: Number(field('id')), event, data: JSON.parse(field('data') ?? '{}') });
        }
        if (done(parsed)) {
          req.destroy();
          resolve(parsed);
        }
      });
    });
    req.on('error', (e) => (done(parsed) ? resolve(parsed) : reject(e)));
    req.end();
    setTimeout(() => reject(new Error(`events so far: ${JSON.stringify(parsed)}`)), 10_000);
  });
}

/** Every stored check transition with id > after, in id order. */
async function storedChecksAfter(d: HistoryDaemon, after: number): Promise<number[]> {
  return (await d.store.transitionsAfter(after, 10_000)).filter((t) => t.level === 'check').map((t) => t.id!);
}

/** Flap api/a1/tcp `times` times (two check transitions each). */
async function flap(d: HistoryDaemon, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    d.outcomes['api/a1/tcp'] = DOWN;
    await d.run(1000);
    delete d.outcomes['api/a1/tcp'];
    await d.run(1000);
  }
}

describe('GET /api/v1/events resumes', () => {
  it('after a restart, from the stored transitions, with the ids they were sent with', { timeout: 20_000 }, async () => {
    const path = freshPath();
    const first = await startHistoryDaemon(path, T0);
    await first.run(2000);
    await flap(first, 3);
    await first.writer.flush();
    const seen = await events(first, '0', (e) => e.length >= 9);
    expect(seen.map((e) => e.id)).toEqual((await storedChecksAfter(first, 0)).slice(0, seen.length));
    const resumeAfter = seen[4]!.id;
    await first.stop();

    const second = await startHistoryDaemon(path, T0 + 3_600_000);
    try {
      await second.run(2000);
      await flap(second, 1);
      await second.writer.flush();
      const want = await storedChecksAfter(second, resumeAfter);
      expect(want.some((id) => id > first.log.lastId)).toBe(true); // some from this run, some from the first
      const resumed = await events(second, String(resumeAfter), (e) => e.length >= want.length);
      expect(resumed.map((e) => [e.event, e.id])).toEqual(want.map((id) => ['transition', id]));
      expect(resumed.every((e) => e.data.id === e.id)).toBe(true);
    } finally {
      await second.stop();
    }
  });

  it('from the store when the ring no longer reaches back, within one run', { timeout: 20_000 }, async () => {
    const d = await startHistoryDaemon(freshPath(), T0, { ringSize: 3 });
    try {
      await d.run(2000);
      await flap(d, 4);
      await d.writer.flush();
      const all = await storedChecksAfter(d, 0);
      const resumeAfter = all[2]!;
      const resumed = await events(d, String(resumeAfter), (e) => e.length >= all.length - 3);
      expect(resumed.map((e) => e.id)).toEqual(all.slice(3));
    } finally {
      await d.stop();
    }
  });

  it('with a reset when the id is older than what is kept, never handed out, or not an id', { timeout: 20_000 }, async () => {
    const d = await startHistoryDaemon(freshPath(), T0, { ringSize: 3 });
    try {
      await d.run(2000);
      await flap(d, 4);
      await d.writer.flush();
      // Retention takes the check transitions older than 6 s: ids up to the horizon are gone, and the ring (3) is younger.
      await d.store.maintain(d.clock.now(), { lateMs: 0, retention: { transitionsMs: 6000 } });
      const { horizon } = await d.store.transitionIds();
      const kept = await storedChecksAfter(d, 0);
      expect(kept.length).toBeGreaterThan(3);
      expect(horizon).toBeLessThan(kept[0]!);
      for (const id of [String(horizon - 1), String(d.log.lastId + 5), 'abc']) {
        const [reset] = await events(d, id, (e) => e.length >= 1);
        expect(reset, id).toMatchObject({ event: 'reset', id: d.log.lastId, data: { lastId: d.log.lastId } });
      }
      // After a reset the stream goes on live.
      let open = false;
      const after = events(
        d,
        'abc',
        (e) => e.length >= 2,
        () => (open = true),
      );
      await waitFor(() => open, { timeoutMs: 5000, what: 'the stream to open' });
      await flap(d, 1);
      const [reset, live] = await after;
      expect(reset!.event).toBe('reset');
      expect(live).toMatchObject({ event: 'transition', data: { check: 'api/a1/tcp' } });
      expect(live!.id).toBeGreaterThan(reset!.id);
    } finally {
      await d.stop();
    }
  });
});
