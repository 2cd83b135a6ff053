import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.js';
import { DeadlineQueue, type DeadlineEntry } from '../../src/proxy/deadlines.js';

interface E extends DeadlineEntry {
  name: string;
}
const entry = (name: string): E => ({ name, deadline: 0, prevDeadline: undefined, nextDeadline: undefined, queued: false });

function setup(onExpire?: (e: E, q: DeadlineQueue<E>, clock: FakeClock) => void) {
  const clock = new FakeClock(0);
  const expired: string[] = [];
  const q: DeadlineQueue<E> = new DeadlineQueue<E>(clock, 100, (e) => {
    expired.push(`${e.name}@${clock.now()}`);
    onExpire?.(e, q, clock);
  });
  return { clock, q, expired };
}

describe('deadline queue', () => {
  it('expires each entry at its own deadline with one timer armed', () => {
    const { clock, q, expired } = setup();
    q.add(entry('a'));
    clock.advance(30);
    q.add(entry('b'));
    clock.advance(30);
    q.add(entry('c'));
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(200);
    expect(expired).toEqual(['a@100', 'b@130', 'c@160']);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('never expires removed entries, wherever they are in the queue', () => {
    const { clock, q, expired } = setup();
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(entry) as [E, E, E, E];
    q.add(a);
    clock.advance(10);
    q.add(b);
    clock.advance(10);
    q.add(c);
    q.add(d);
    q.remove(a);
    q.remove(c);
    q.remove(c);
    expect(q.size()).toBe(2);
    clock.advance(500);
    expect(expired).toEqual(['b@110', 'd@120']);
  });

  it('an entry added while expiring does not delay older ones', () => {
    const { clock, q, expired } = setup((e, queue) => {
      if (e.name === 'a') queue.add(entry('retry-of-a'));
    });
    q.add(entry('a'));
    clock.advance(50);
    q.add(entry('b'));
    clock.advance(300);
    expect(expired).toEqual(['a@100', 'b@150', 'retry-of-a@200']);
  });

  it('close() stops the timer', () => {
    const { clock, q, expired } = setup();
    q.add(entry('a'));
    q.close();
    clock.advance(1000);
    expect(expired).toEqual([]);
    expect(clock.pendingTimers()).toBe(0);
  });
});
