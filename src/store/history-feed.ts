/**
 * How history reaches the store in the daemon: the writer takes its rows
 * from the producers that know what to store, not from the engine bus.
 *
 * - Results come from the status rollup once it folded them in
 *   (`StatusRollup.onScored`), carrying the check's and its instance's score
 *   after the result, its status change included. The rollup emits the
 *   scored result from inside its own `result` handler, so the order in which
 *   the rollup and anything else subscribe to the bus does not matter.
 * - Transitions of every level come from the transition log
 *   (server/event-log.ts), which numbers them: check transitions from the
 *   bus, instance and service changes from the rollup (`onChange`). The
 *   stored id is the SSE id, and the log numbers on from the store's
 *   highest id.
 *
 * The rollup and the log must be attached to the engine's bus (their
 * `attach`); the writer must not be (it would store every result twice).
 */
import type { Clock } from '../core/clock.js';
import { transitionRow, type TransitionHistory, type TransitionLog } from '../server/event-log.js';
import type { StatusRollup } from '../status/rollup.js';
import { resultRecord, type ResultWriter } from './writer.js';

/** The parts connectHistory wires together. */
export interface HistoryFeedParts {
  rollup: StatusRollup;
  log: TransitionLog;
  writer: ResultWriter;
  /** The store the writer writes to: where transition ids go on from, and resumes beyond the log's ring are read. */
  store: TransitionHistory;
  clock: Clock;
}

/** A connected feed. */
export interface HistoryFeed {
  /**
   * The daemon is stopping: store a transition to UNKNOWN (reason
   * `stopped`) for every instance and service not UNKNOWN, so the time it
   * is down counts as unknown in uptime, then disconnect. Call before the
   * writer's close().
   */
  stop(at: number): void;
}

/** Connect the writer to the rollup and the log; before the engine runs its first check. */
export async function connectHistory(parts: HistoryFeedParts): Promise<HistoryFeed> {
  const { rollup, log, writer, store, clock } = parts;
  const { last } = await store.transitionIds();
  log.resumeFrom(store, last, clock.now());
  const offs = [
    rollup.onScored((s) => writer.addResult(resultRecord(s.event, s))),
    rollup.onChange((change) => void log.pushChange(change)),
    log.subscribeAll((t) => writer.addTransition(transitionRow(t))),
  ];
  return {
    stop(at) {
      for (const service of rollup.serviceNames()) {
        for (const [instance, status] of rollup.instanceStatuses(service)) {
          if (status !== 'UNKNOWN')
            log.push({ level: 'instance', check: '', service, instance, from: status, to: 'UNKNOWN', reason: 'stopped', output: 'healthmesh stopped', at });
        }
        const status = rollup.service(service);
        if (status !== 'UNKNOWN')
          log.push({ level: 'service', check: '', service, instance: '', from: status, to: 'UNKNOWN', reason: 'stopped', output: 'healthmesh stopped', at });
      }
      for (const off of offs.splice(0)) off();
    },
  };
}
