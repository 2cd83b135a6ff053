import type { HistoryStore, WriteBatch } from '../../src/store/types.js';

/** A HistoryStore for writer tests: only `write` and `close` work, the rest throw. */
export function writeOnlyStore(backend: string, write: (batch: WriteBatch) => Promise<void>): HistoryStore {
  const notUsed = (): never => {
    throw new Error('not used by the writer');
  };
  return {
    backend,
    write,
    queryResults: notUsed,
    queryTransitions: notUsed,
    transitionsAfter: notUsed,
    transitionIds: notUsed,
    queryRollups: notUsed,
    queryUptime: notUsed,
    latestResults: notUsed,
    putRegistration: notUsed,
    deleteRegistration: notUsed,
    listRegistrations: notUsed,
    maintain: notUsed,
    stats: notUsed,
    close: async () => {},
  };
}
