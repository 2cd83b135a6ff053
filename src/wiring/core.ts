/**
 * The one wiring of healthmesh's core: engine (scheduler, checks, status
 * machines), registry, status rollup, and a health-aware balancer per
 * service fed by them. The daemon, the embedded library and (later) each
 * cluster member build their core here, so they cannot drift apart; each
 * adds its own outer parts (the daemon: store, metrics, API, alerts,
 * analysis).
 *
 * Data flows one way: the engine publishes results, transitions and flaps
 * on its bus; the rollup folds them into instance, service and mesh
 * statuses and tells its listeners of each change; the balancer feed reads
 * both and tells the engine, through its passive-evidence port, what real
 * traffic showed. Nothing calls back up the chain.
 */
import { BalancerSet, balancerConfigs } from '../balancer/balancer-set.js';
import { LocalFeed } from '../balancer/local-feed.js';
import type { CheckFactory } from '../core/check.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Random } from '../core/random.js';
import type { Config } from '../config/schema.js';
import { Engine } from '../engine.js';
import { logBalancerEvent, logCheckEvents, logRollupChange } from '../logging/health-logs.js';
import { Registry, type ApplyReport, type RegistrationStore } from '../registry/registry.js';
import { StatusRollup } from '../status/rollup.js';

/** What a core is built from; every dependency is injected. */
export interface CoreOptions {
  config: Config;
  clock: Clock;
  random: Random;
  /** Health log lines (transitions, flapping, service and mesh changes, ejections, panic) and runner logs; none: silent. */
  logger?: Logger;
  /** Where run-time registrations are kept across restarts; none: in memory only. */
  registrations?: RegistrationStore;
  /** Spread each check's first run over its interval (default true; the library runs its checks at once). */
  spreadFirstRun?: boolean;
  /** Override how runners are built (tests). */
  runnerFor?: CheckFactory;
}

/** A built core. `start()` runs the config's checks; `stop()` ends everything it started. */
export interface Core {
  readonly engine: Engine;
  readonly registry: Registry;
  readonly rollup: StatusRollup;
  /** A balancer per service, kept current from the engine and the rollup. */
  readonly balancers: BalancerSet;
  /** The config in force (the last one applied). */
  readonly config: Config;
  /** Start the balancer feed, the config's checks and the stored registrations; resolves with how many were restored. */
  start(): Promise<{ restored: number }>;
  /** Apply a new config by diff (a reload): checks, instances, balancers. */
  apply(config: Config): ApplyReport;
  /** Stop the feed and the balancers, abort checks in flight, close every runner. */
  stop(): Promise<void>;
}

/** Build a core; nothing runs until `start()`. */
export function createCore(options: CoreOptions): Core {
  const { clock, random, logger } = options;
  let config = options.config;
  const engine = new Engine({
    clock,
    random,
    logger,
    concurrency: config.scheduler.concurrency,
    ...(options.spreadFirstRun === undefined ? {} : { spreadFirstRun: options.spreadFirstRun }),
    ...(options.runnerFor ? { runnerFor: options.runnerFor } : {}),
  });
  const registry = new Registry(engine, config, options.registrations, clock);
  const rollup = new StatusRollup((service) => registry.rollupSettings(service));
  rollup.attach(engine.bus);
  const balancers = new BalancerSet({ clock, random });
  balancers.configure(balancerConfigs(config));
  const feed = new LocalFeed({ set: balancers, engine, registry, rollup, clock });
  const offs: Array<() => void> = [];
  if (logger) {
    offs.push(logCheckEvents(engine.bus, logger));
    offs.push(rollup.onChange((change) => logRollupChange(logger, change)));
    offs.push(balancers.on((event) => logBalancerEvent(logger, event)));
  }

  return {
    engine,
    registry,
    rollup,
    balancers,
    get config() {
      return config;
    },
    async start() {
      feed.start();
      registry.applyConfig(config);
      return { restored: await registry.restore() };
    },
    apply(next) {
      config = next;
      const report = registry.applyConfig(next);
      for (const service of balancers.configure(balancerConfigs(next))) feed.refresh(service);
      return report;
    },
    async stop() {
      for (const off of offs.splice(0)) off();
      feed.stop();
      balancers.close();
      await engine.stop();
    },
  };
}
