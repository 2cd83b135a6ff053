/** WriteBatch: writes of one batch of events leave together, once, in order; later ones wait for the next batch. */
import { describe, expect, it } from 'vitest';
import { WriteBatch, type BatchedWriter } from '../../src/proxy/write-batch.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('WriteBatch', () => {
  it('flushes every writer added in one turn after it, in the order added, once each', async () => {
    const batch = new WriteBatch();
    const log: string[] = [];
    const writer = (name: string): BatchedWriter => ({ flushBatched: () => log.push(name) });
    const a = writer('a');
    const b = writer('b');
    batch.add(a);
    batch.add(b);
    expect(log).toEqual([]); // nothing leaves synchronously
    await tick();
    expect(log).toEqual(['a', 'b']);
    await tick();
    expect(log).toEqual(['a', 'b']);
  });

  it('a writer added while the batch flushes goes out with the next batch, not lost and not in this one', async () => {
    const batch = new WriteBatch();
    const log: string[] = [];
    const late: BatchedWriter = { flushBatched: () => log.push('late') };
    const first: BatchedWriter = {
      flushBatched: () => {
        log.push('first');
        batch.add(late);
      },
    };
    batch.add(first);
    await tick();
    expect(log).toEqual(['first']);
    await tick();
    expect(log).toEqual(['first', 'late']);
  });

  it('flushAll sends what is pending at once, and the scheduled turn then has nothing left to send', async () => {
    const batch = new WriteBatch();
    let n = 0;
    batch.add({ flushBatched: () => n++ });
    batch.flushAll();
    expect(n).toBe(1);
    await tick();
    expect(n).toBe(1);
  });
});
