import type { ConditionConfig } from '../../config/alerts.js';
import { ANALYSIS_WINDOW_MS, analysisScope, atScope, DIRECTION_CODE, trendSample } from './analysis-samples.js';
import type { ConditionFactory } from './types.js';

type TrendConfig = Extract<ConditionConfig, { kind: 'trend' }>;

/**
 * `trend`: the series' trend (Theil–Sen over the last hour of minutes,
 * Mann–Kendall confidence; src/analysis/trend.ts) is one of `direction`.
 * `improving` and `degrading` are claimed only at ≥ 95 % confidence and a
 * change of ≥ 5 % of the level; while the trend is refused (under 10
 * minutes of data) no sample comes and the verdict stays as it was.
 */
export const trendCondition: ConditionFactory<TrendConfig> = (config, ruleScope) => {
  const scope = analysisScope(config.series, ruleScope);
  const wanted = new Set(config.direction.map((d) => DIRECTION_CODE[d]));
  const name = trendSample(config.series);
  const byCode = new Map(Object.entries(DIRECTION_CODE).map(([d, c]) => [c, d]));
  return {
    scope,
    listens: ['sample'],
    series: { name, windowMs: ANALYSIS_WINDOW_MS },
    evaluate(event) {
      if (event.type !== 'sample' || event.series !== name || !atScope(event.subject, scope)) return undefined;
      const direction = byCode.get(event.value) ?? 'unknown';
      const active = wanted.has(event.value);
      return { active, value: event.value, summary: `${config.series} is ${direction}${active ? '' : ` (alert on ${config.direction.join('|')})`}` };
    },
  };
};
