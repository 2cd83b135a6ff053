/**
 * The log lines the daemon writes about health: check transitions and
 * flapping, service and mesh changes, balancer ejections and panic. One
 * place, so every line keeps the same shape: a message that reads on its own
 * (the terminal shows only it, see core/log-line.ts) and fields for JSON
 * pipelines. No field may be named like one of pino's own keys (`level`,
 * `time`, `msg`, `pid`, `hostname`): a second `level` key made pipelines read
 * the log level as "service".
 */
import type { BalancerEvent } from '../balancer/service-balancer.js';
import type { EventBus } from '../core/events.js';
import type { HealthEvents } from '../status/health-events.js';
import type { Logger } from '../core/logger.js';
import { severity, type HealthStatus } from '../core/status.js';
import type { RollupChange } from '../status/rollup.js';

/** A change for the worse (not out of UNKNOWN) is a warning; the rest is info. */
function isWorse(from: HealthStatus, to: HealthStatus): boolean {
  return severity(to) > severity(from) && from !== 'UNKNOWN';
}

/** Log check transitions and flapping from an engine's bus; returns the unsubscribe. */
export function logCheckEvents(bus: EventBus<HealthEvents>, logger: Logger): () => void {
  const offs = [
    bus.on('transition', ({ spec, from, to, result }) => {
      const fields = { check: spec.id, service: spec.service, instance: spec.instance, from, to, reason: result.reason, output: result.output };
      const message = `${spec.id} ${from} → ${to} ${result.reason}${result.output ? ` (${result.output})` : ''}`;
      if (isWorse(from, to)) logger.warn(fields, message);
      else logger.info(fields, message);
    }),
    bus.on('flap', ({ spec, flapping, share }) => {
      logger.warn({ check: spec.id, flapping, share }, `${spec.id} ${flapping ? 'is flapping' : 'stopped flapping'} (${Math.round(share * 100)}% changes)`);
    }),
  ];
  return () => {
    for (const off of offs) off();
  };
}

/** Log a service or mesh status change (instance changes are said by their check's line). */
export function logRollupChange(logger: Logger, change: RollupChange): void {
  if (change.level === 'instance') return;
  const fields = { scope: change.level, id: change.id, from: change.from, to: change.to, cause: change.cause };
  const who = change.level === 'mesh' ? 'mesh' : `service ${change.id}`;
  const message = `${who} ${change.from} → ${change.to} (after ${change.cause})`;
  if (isWorse(change.from, change.to)) logger.warn(fields, message);
  else logger.info(fields, message);
}

/** Log what the balancers decide on their own: outlier ejections and panic mode. */
export function logBalancerEvent(logger: Logger, event: BalancerEvent): void {
  if (event.type === 'outlier' && event.change.type === 'eject') {
    const { id, detector, figures } = event.change;
    logger.warn({ service: event.service, instance: id, detector, figures }, `${event.service}/${id} ejected by ${detector}`);
  } else if (event.type === 'panic') {
    const usable = Math.round(event.healthyShare * 100);
    logger.warn(
      { service: event.service, panic: event.panic, healthyShare: event.healthyShare },
      `${event.service} ${event.panic ? 'enters' : 'leaves'} panic mode (${usable}% usable)`,
    );
  }
}
