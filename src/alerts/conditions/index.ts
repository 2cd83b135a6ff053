/**
 * Condition kinds, one file a kind, collected in one typed map.
 *
 * Trend, forecast, anomaly and SLO burn rate (src/analysis/) join as one
 * more entry each: a schema in config/alerts.ts `conditionSchema`, a file
 * here whose evaluator listens to `sample` events of the series the analysis
 * publishes through AlertInput.sample (e.g. `forecast.days_to_full`,
 * `anomaly.score`, `slo.burn_rate_1h`) or reads them from SeriesWindows, and
 * one line below. The rule engine, lifecycle and notifiers do not change.
 */
import type { ConditionConfig, ConditionKind } from '../../config/alerts.js';
import { reasonCondition } from './reason.js';
import { statusCondition } from './status.js';
import { thresholdCondition } from './threshold.js';
import type { Condition, ConditionFactory, Scope } from './types.js';

export type { Condition, ConditionEvent, ConditionContext, Scope, Verdict } from './types.js';

/** The config of one condition kind. */
export type ConditionConfigOf<K extends ConditionKind> = Extract<ConditionConfig, { kind: K }>;

type ConditionFactories = { [K in ConditionKind]: ConditionFactory<ConditionConfigOf<K>> };

/** Every condition kind by name. */
export const conditionKinds = {
  status: statusCondition,
  reason: reasonCondition,
  threshold: thresholdCondition,
} satisfies ConditionFactories;

/** Compile one condition config with its kind's factory. */
export function compileCondition<K extends ConditionKind>(config: ConditionConfigOf<K> & { kind: K }, scope: Scope | undefined): Condition {
  const factories: ConditionFactories = conditionKinds;
  const factory: ConditionFactories[K] = factories[config.kind];
  return factory(config, scope);
}
