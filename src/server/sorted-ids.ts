/**
 * A sorted array of distinct strings (in `<` order, the order keyset cursors
 * compare in). Finding is a binary search; adding and deleting move the tail
 * of the array, a memmove of pointers that stays in microseconds for the
 * tens of thousands of instances a service can have.
 */
export class SortedIds {
  private readonly ids: string[];

  /** `ids` must be distinct; they are sorted here. */
  constructor(ids: string[] = []) {
    this.ids = ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  get size(): number {
    return this.ids.length;
  }

  /** Position of the first id greater than `after` (0 when `after` is undefined). */
  firstAfter(after: string | undefined): number {
    if (after === undefined) return 0;
    let lo = 0;
    let hi = this.ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ids[mid]! <= after) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  at(i: number): string | undefined {
    return this.ids[i];
  }

  add(id: string): void {
    const i = this.firstAfter(id);
    if (this.ids[i - 1] !== id) this.ids.splice(i, 0, id);
  }

  delete(id: string): void {
    const i = this.firstAfter(id) - 1;
    if (i >= 0 && this.ids[i] === id) this.ids.splice(i, 1);
  }
}

/**
 * The first `limit` ids after `after` of the union of `lists` (distinct
 * between them), in order, and whether more follow: a k-way merge that
 * reads O(limit × lists) entries, however long the lists are.
 */
export function pageOfUnion(lists: readonly SortedIds[], after: string | undefined, limit: number): { ids: string[]; more: boolean } {
  const at = lists.map((l) => l.firstAfter(after));
  const ids: string[] = [];
  for (;;) {
    let best = -1;
    let bestId: string | undefined;
    for (let k = 0; k < lists.length; k++) {
      const id = lists[k]!.at(at[k]!);
      if (id !== undefined && (bestId === undefined || id < bestId)) {
        best = k;
        bestId = id;
      }
    }
    if (bestId === undefined) return { ids, more: false };
    if (ids.length === limit) return { ids, more: true };
    ids.push(bestId);
    at[best]!++;
  }
}
