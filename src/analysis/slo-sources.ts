/**
 * GoodTotalSource adapters over the history store: availability from a
 * check's rollups (good = results that were HEALTHY). Latency objectives need
 * counts of results under a threshold, which rollups do not keep (only
 * min/avg/p95/max); they need a source that counts them.
 */
import type { HistoryStore, Resolution } from '../store/types.js';
import { RESOLUTION_MS } from '../store/types.js';
import type { CountBucket, GoodTotalSource } from './slo.js';

/** Availability of one check from its minute (default) or hour rollups. */
export function rollupAvailability(store: Pick<HistoryStore, 'queryRollups'>, checkId: string, resolution: Resolution = 'minute'): GoodTotalSource {
  return {
    bucketMs: RESOLUTION_MS[resolution],
    async buckets(from: number, to: number): Promise<readonly CountBucket[]> {
      const rollups = await store.queryRollups({ checkId, resolution, from, to });
      return rollups.map((r) => ({ start: r.bucketStart, good: r.count - r.failures, total: r.count }));
    },
  };
}
