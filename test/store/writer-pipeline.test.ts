import { describe, expect, it } from 'vitest';
import { FakeClock, flushMicrotasks } from '../../src/core/clock.js';
import type { WriteBatch } from '../../src/store/types.js';
import { ResultWriter } from '../../src/store/writer.js';
import { result, T0 } from './contract.js';
import { writeOnlyStore } from './write-only-store.js';

/** A store whose writes stay pending until released, in call order. */
function heldStore() {
  const writes: { batch: WriteBatch; release: () => void; fail: (e: Error) => void }[] = [];
  const store = writeOnlyStore(
    'held',
    (batch) =>
      new Promise<void>((release, fail) => {
        writes.push({ batch: { results: [...batch.results], transitions: [...batch.transitions] }, release, fail });
      }),
  );
  return { store, writes };
}

describe('ResultWriter maxInFlight', () => {
  it('keeps one flush in flight by default', async () => {
    const clock = new FakeClock(T0);
    const { store, writes } = heldStore();
    const writer = new ResultWriter({ store, clock, maxBatch: 10 });
    for (let i = 0; i < 35; i++) writer.addResult(result('s/i/c', T0 + i));
    clock.advance(0);
    await flushMicrotasks();
    expect(writes).toHaveLength(1);
    writes[0]!.release();
    await flushMicrotasks();
    clock.advance(0);
    await flushMicrotasks();
    expect(writes).toHaveLength(2);
    for (const w of writes.slice(1)) w.release();
    await flushMicrotasks();
    void writer.close();
  });

  it('starts up to maxInFlight full batches at once, in order, and counts them as buffered', async () => {
    const clock = new FakeClock(T0);
    const { store, writes } = heldStore();
    const writer = new ResultWriter({ store, clock, maxBatch: 10, maxInFlight: 3 });
    for (let i = 0; i < 45; i++) writer.addResult(result('s/i/c', T0 + i, { output: String(i) }));
    for (let i = 0; i < 5; i++) {
      clock.advance(0);
      await flushMicrotasks();
    }
    expect(writes.map((w) => w.batch.results.length)).toEqual([10, 10, 10]);
    expect(writer.stats().bufferedResults).toBe(45);
    writes[1]!.release();
    await flushMicrotasks();
    clock.advance(0);
    await flushMicrotasks();
    expect(writes).toHaveLength(4);
    // A failed flush's rows come back to the front of the buffer.
    writes[0]!.fail(new Error('disk full'));
    await flushMicrotasks();
    writes[2]!.release();
    writes[3]!.release();
    await flushMicrotasks();
    const closing = writer.close();
    for (let i = 0; i < 10; i++) {
      await flushMicrotasks();
      clock.advance(1000);
      for (const w of writes) w.release();
    }
    await closing;
    const written = writes.slice(1).flatMap((w) => w.batch.results.map((r) => Number(r.output)));
    expect([...written].sort((a, b) => a - b)).toEqual(Array.from({ length: 45 }, (_, i) => i));
    expect(writer.stats()).toMatchObject({ failedFlushes: 1, bufferedResults: 0, droppedResults: 0 });
  });
});
