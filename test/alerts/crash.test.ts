import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { answer200, startReceiver, until, type Behaviour } from './receivers.js';

/**
 * kill -9 of a process holding the SQLite outbox, between enqueue and
 * delivery: after a restart the notification is delivered, and once
 * delivered it is never sent again.
 */

const { track, cleanups } = useCleanups();
const CHILD = fileURLToPath(new URL('./fixtures/outbox-child.mjs', import.meta.url));
const BUILT = fileURLToPath(new URL('../../dist/src/alerts/outbox.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'healthmesh-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function child(db: string, url: string, mode: 'enqueue' | 'resume'): { proc: ChildProcess; lines: () => string[] } {
  const proc = spawn(process.execPath, [CHILD, db, url, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d));
  proc.stderr!.on('data', (d: Buffer) => (out += d));
  cleanups.push(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  return { proc, lines: () => out.split('\n').filter(Boolean) };
}

async function kill9(proc: ChildProcess): Promise<void> {
  const gone = new Promise((r) => proc.once('close', r));
  proc.kill('SIGKILL');
  await gone;
}

/** Answered deliveries of the receiver (2xx) by idempotency key. */
function answeredKeys(requests: Array<{ headers: Record<string, unknown> }>, answered: Set<number>): string[] {
  return requests.filter((_r, i) => answered.has(i)).map((r) => String(r.headers['idempotency-key']));
}

describe('kill -9 between enqueue and delivery (SQLite outbox in a child process)', () => {
  it('needs the build (npm test builds first)', () => {
    expect(existsSync(BUILT)).toBe(true);
  });

  it('receiver down at the kill: delivered after the restart, once; a further restart sends nothing', async () => {
    const db = join(dir, 'down.db');
    const answered = new Set<number>();
    const r = track(
      await startReceiver((req, res) => {
        answered.add(r.requests.indexOf(req));
        answer200(req, res);
      }),
    );
    await r.stop();
    const first = child(db, `${r.url}/in`, 'enqueue');
    await until(() => first.lines().includes('failed crash-1:hook'), 10_000, 'a failed try');
    await kill9(first.proc);
    await r.start();
    const second = child(db, `${r.url}/in`, 'resume');
    await until(() => second.lines().includes('delivered crash-1:hook'), 10_000, 'the delivery after the restart');
    await kill9(second.proc);
    const third = child(db, `${r.url}/in`, 'resume');
    await until(() => third.lines().includes('running'), 10_000, 'the third start');
    await new Promise((res) => setTimeout(res, 700));
    await kill9(third.proc);
    expect(answeredKeys(r.requests, answered)).toEqual(['crash-1:hook']);
    expect(r.requests).toHaveLength(1);
  }, 40_000);

  it('killed while the try is in flight: the restart sends it again with the same key, and it is delivered once', async () => {
    const db = join(dir, 'inflight.db');
    const answered = new Set<number>();
    const hang: Behaviour = () => {};
    const r = track(await startReceiver(hang));
    const first = child(db, `${r.url}/in`, 'enqueue');
    await until(() => r.requests.length === 1, 10_000, 'the first try to arrive');
    await kill9(first.proc); // no answer was given: the row is leased, not delivered
    r.behaviour = (req, res) => {
      answered.add(r.requests.indexOf(req));
      answer200(req, res);
    };
    const second = child(db, `${r.url}/in`, 'resume');
    await until(() => second.lines().includes('delivered crash-1:hook'), 10_000, 'the delivery after the restart');
    await new Promise((res) => setTimeout(res, 500));
    await kill9(second.proc);
    const third = child(db, `${r.url}/in`, 'resume');
    await until(() => third.lines().includes('running'), 10_000, 'the third start');
    await new Promise((res) => setTimeout(res, 700));
    await kill9(third.proc);
    expect(r.requests.map((q) => q.headers['idempotency-key'])).toEqual(['crash-1:hook', 'crash-1:hook']);
    expect(answeredKeys(r.requests, answered)).toEqual(['crash-1:hook']);
  }, 40_000);
});
