import type { ConditionConfig } from '../../config/alerts.js';
import { formatDuration } from '../../config/duration.js';
import { ANALYSIS_WINDOW_MS, analysisScope, atScope, forecastSample } from './analysis-samples.js';
import type { ConditionFactory } from './types.js';

type ForecastConfig = Extract<ConditionConfig, { kind: 'forecast' }>;

/**
 * `forecast`: the series is forecast (Holt's linear method with a 90 %
 * interval; src/analysis/forecast.ts) to cross `threshold` within `within`,
 * dated by `edge`: `at` the point forecast, `earliest` the interval's near
 * edge (a crossing is plausible by then), `latest` its far edge (likely by
 * then). A refused forecast (too little data, no significant trend, a random
 * walk) or no crossing within reach does not hold.
 */
export const forecastCondition: ConditionFactory<ForecastConfig> = (config, ruleScope) => {
  const scope = analysisScope(config.series, ruleScope);
  const name = forecastSample(config.series, config.threshold, config.edge);
  const within = formatDuration(config.within);
  return {
    scope,
    listens: ['sample'],
    series: { name, windowMs: ANALYSIS_WINDOW_MS },
    evaluate(event) {
      if (event.type !== 'sample' || event.series !== name || !atScope(event.subject, scope)) return undefined;
      const ms = event.value;
      const active = ms <= config.within;
      const when = !Number.isFinite(ms)
        ? 'not forecast to cross'
        : ms === 0
          ? 'already past'
          : `forecast to cross in ${formatDuration(Math.round(ms / 1000) * 1000)}`;
      return {
        active,
        value: Number.isFinite(ms) ? ms / 1000 : null,
        summary: `${config.series} ${when} ${config.threshold}${active ? '' : ` (alert within ${within})`}`,
      };
    },
  };
};
