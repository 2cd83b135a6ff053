/**
 * The header fields of a connection's previous head, by position, so that
 * a parser reading the next head makes no string for a field that repeats.
 *
 * Why: a keep-alive upstream sends nearly the same head every time (nginx:
 * Server, Content-Type, Content-Length, Last-Modified, ETag, Accept-Ranges
 * the same; Date once a second), and every string made per response is
 * garbage for the next scavenge, whose pause every request in flight waits
 * for. A repeat costs a byte-by-byte compare with last time's string instead.
 *
 * One per connection: heads on one connection come one after another, so
 * position i is most often the same field as last time.
 */

import { sameLatin1 } from './header-names.js';

/** Fields past this position are made fresh each time (bounds what an idle connection keeps). */
const MAX_KEPT = 32;

export class RepeatedFields {
  private readonly names: string[] = [];
  private readonly values: string[] = [];

  /** The name at position `index` of this head, equal to the bytes buf[start, end). */
  name(index: number, buf: Buffer, start: number, end: number): string {
    return take(this.names, index, buf, start, end);
  }

  /** The value at position `index` of this head, equal to the bytes buf[start, end). */
  value(index: number, buf: Buffer, start: number, end: number): string {
    return take(this.values, index, buf, start, end);
  }
}

/** kept[index] when it equals buf[start, end) as latin1, else a new string (kept for next time). */
function take(kept: string[], index: number, buf: Buffer, start: number, end: number): string {
  const last = index < kept.length ? kept[index]! : undefined;
  if (last !== undefined && sameLatin1(last, buf, start, end)) return last;
  const s = buf.toString('latin1', start, end);
  // Positions fill in order, so the array stays dense.
  if (index < MAX_KEPT && index <= kept.length) kept[index] = s;
  return s;
}
