/**
 * Condition kinds, one file a kind, collected in one typed map.
 *
 * Trend, forecast, anomaly and SLO burn rate (src/analysis/) are one entry
 * each: a schema in config/alerts.ts `conditionSchema`, a file here whose
 * evaluator listens to the `sample` events the daemon's analysis publishes
 * through AlertInput.sample (names in analysis-samples.ts), and one line
 * below. The rule engine, lifecycle and notifiers did not change for them.
 */
import type { ConditionConfig, ConditionKind } from '../../config/alerts.js';
import { anomalyCondition } from './anomaly.js';
import { burnRateCondition } from './burn-rate.js';
import { forecastCondition } from './forecast.js';
import { reasonCondition } from './reason.js';
import { statusCondition } from './status.js';
import { thresholdCondition } from './threshold.js';
import { trendCondition } from './trend.js';
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
  trend: trendCondition,
  forecast: forecastCondition,
  anomaly: anomalyCondition,
  burn_rate: burnRateCondition,
} satisfies ConditionFactories;

/** Compile one condition config with its kind's factory. */
export function compileCondition<K extends ConditionKind>(config: ConditionConfigOf<K> & { kind: K }, scope: Scope | undefined): Condition {
  const factories: ConditionFactories = conditionKinds;
  const factory: ConditionFactories[K] = factories[config.kind];
  return factory(config, scope);
}
