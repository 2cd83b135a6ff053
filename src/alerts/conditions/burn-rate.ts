import { WORKBOOK_CONDITIONS } from '../../analysis/slo.js';
import type { ConditionConfig } from '../../config/alerts.js';
import { ANALYSIS_WINDOW_MS, atScope, burnSample } from './analysis-samples.js';
import type { ConditionFactory } from './types.js';

type BurnRateConfig = Extract<ConditionConfig, { kind: 'burn_rate' }>;

/**
 * `burn_rate`: the service's SLO (services.<name>.slo) burns its error
 * budget too fast, as the SRE workbook's multi-window conditions say:
 * `page` holds when 1h/5m exceed 14.4× or 6h/30m exceed 6×, `ticket` when
 * 3d/6h exceed 1×; a named window holds when both its burn rates exceed its
 * factor (or `factor`). Evaluated on the daemon's SLO refresh, each minute.
 */
export const burnRateCondition: ConditionFactory<BurnRateConfig> = (config) => {
  const name = burnSample(config.window);
  const named = WORKBOOK_CONDITIONS.find((c) => c.name === config.window);
  // page/ticket samples are already ratios to each condition's factor.
  const limit = named ? (config.factor ?? named.factor) : 1;
  return {
    scope: 'service',
    listens: ['sample'],
    series: { name, windowMs: ANALYSIS_WINDOW_MS },
    evaluate(event) {
      if (event.type !== 'sample' || event.series !== name || !atScope(event.subject, 'service')) return undefined;
      const active = event.value > limit;
      const what = named ? `burn rate ${event.value.toFixed(2)}× over ${config.window}` : `${config.window} burn at ${event.value.toFixed(2)} of its threshold`;
      return { active, value: event.value, summary: `${what}${active ? ' >' : ' ≤'} ${limit}${named ? '×' : ''}` };
    },
  };
};
