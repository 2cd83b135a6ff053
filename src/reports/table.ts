/**
 * Building tables with rows written by column key, so a builder cannot put
 * a value in the wrong column, and a percentile helper shared by builders.
 */
import type { Cell, Column, ColumnType, Table } from './types.js';

/** A table whose columns are declared once; rows are added as records of those keys. */
export class TableBuilder<K extends string> {
  readonly table: Table;
  private readonly keys: readonly K[];

  constructor(id: string, title: string, description: string, columns: ReadonlyArray<readonly [key: K, title: string, type: ColumnType]>) {
    const cols: Column[] = columns.map(([key, t, type]) => ({ key, title: t, type }));
    this.keys = columns.map(([key]) => key);
    this.table = { id, title, description, columns: cols, rows: [] };
  }

  add(row: Record<K, Cell>): void {
    this.table.rows.push(this.keys.map((k) => row[k]));
  }
}

/**
 * Nearest-rank percentile of ascending `sorted` (rank ⌈q·n⌉), the store's
 * rollup definition (store/rollup-math.ts), so a report's p95 of a bucket
 * equals the rollup's; null for no values.
 */
export function percentile(sorted: ArrayLike<number>, q: number): number | null {
  const n = sorted.length;
  if (n === 0) return null;
  const rank = Math.min(n, Math.max(1, Math.ceil(q * n - 1e-9)));
  return sorted[rank - 1]!;
}

/** Round to `digits` decimals (report figures, not storage). */
export function round(x: number | null, digits = 3): number | null {
  if (x === null || !Number.isFinite(x)) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
