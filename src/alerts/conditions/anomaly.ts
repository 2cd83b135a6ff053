import type { ConditionConfig } from '../../config/alerts.js';
import { ANALYSIS_WINDOW_MS, analysisScope, anomalySample, atScope } from './analysis-samples.js';
import type { ConditionFactory } from './types.js';

type AnomalyConfig = Extract<ConditionConfig, { kind: 'anomaly' }>;

/**
 * `anomaly`: the newest minute of the series scored at least `min_score`
 * by the causal robust detector (src/analysis/anomaly/robust.ts; 0.6 is its
 * own flag, p ≤ 10⁻⁶). The detector flags an incident's first minute only;
 * the wiring samples the flag score for the rest of the incident (until the
 * series has been quiet a while), so `for:` asks for an incident that lasts.
 */
export const anomalyCondition: ConditionFactory<AnomalyConfig> = (config, ruleScope) => {
  const scope = analysisScope(config.series, ruleScope);
  const name = anomalySample(config.series);
  return {
    scope,
    listens: ['sample'],
    series: { name, windowMs: ANALYSIS_WINDOW_MS },
    evaluate(event) {
      if (event.type !== 'sample' || event.series !== name || !atScope(event.subject, scope)) return undefined;
      const active = event.value >= config.min_score;
      return { active, value: event.value, summary: `${config.series} anomaly score ${event.value.toFixed(2)}${active ? ' ≥' : ' <'} ${config.min_score}` };
    },
  };
};
