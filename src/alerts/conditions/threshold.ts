import type { ConditionConfig } from '../../config/alerts.js';
import { formatDuration } from '../../config/duration.js';
import { aggregate, subjectKey } from '../series.js';
import { compare, type ConditionFactory, type Scope } from './types.js';

type ThresholdConfig = Extract<ConditionConfig, { kind: 'threshold' }>;

/**
 * `threshold`: an aggregate (avg, min, max, p50…p99, last, rate per second,
 * count) of a numeric series over the last `window` compared with `value`.
 * Evaluated on each sample of the series for a subject; the subject of the
 * sample (check, instance or service) is what the alert is about.
 */
export const thresholdCondition: ConditionFactory<ThresholdConfig> = (config, scope) => {
  const label = `${config.agg}(${config.series}[${formatDuration(config.window)}])`;
  return {
    scope: scope ?? 'check',
    listens: ['sample'],
    series: { name: config.series, windowMs: config.window },
    evaluate(event, ctx, detail) {
      if (event.type !== 'sample' || event.series !== config.series) return undefined;
      const key = subjectKey(event.subject);
      const { value, count } = aggregate(ctx.series.values(config.series, key, ctx.now - config.window), config.agg, config.window);
      if (count < config.min_samples || value === null) {
        return { active: false, value, summary: detail ? `${key}: ${label} has ${count} sample${count === 1 ? '' : 's'} (need ${config.min_samples})` : '' };
      }
      const active = compare(value, config.op, config.value);
      return { active, value, summary: detail ? `${key}: ${label} = ${round(value)} ${active ? '' : 'not '}${config.op} ${config.value}` : '' };
    },
  };
};

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

/** The scope a sample subject stands for. */
export function scopeOfSubject(subject: { instance?: string; checkId?: string }): Scope {
  return 'checkId' in subject && subject.checkId ? 'check' : subject.instance ? 'instance' : 'service';
}
