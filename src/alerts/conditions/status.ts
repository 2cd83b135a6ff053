import type { ConditionConfig } from '../../config/alerts.js';
import type { ConditionFactory } from './types.js';

type StatusConfig = Extract<ConditionConfig, { kind: 'status' }>;

/**
 * `status`: the thresholded status is one of `is`. At check scope (the
 * default) it reads each result's thresholded status, so an alert also
 * clears when a check that never transitioned is seen healthy; at instance
 * or service scope it reads the rollup's status changes.
 */
export const statusCondition: ConditionFactory<StatusConfig> = (config, scope = 'check') => {
  const wanted = new Set<string>(config.is);
  const list = config.is.join('|');
  return {
    scope,
    listens: scope === 'check' ? ['result'] : ['status'],
    evaluate(event, _ctx, detail) {
      if (event.type === 'result') {
        const status = event.input.status;
        return {
          active: wanted.has(status),
          value: null,
          summary: detail ? `${event.input.check.checkId} is ${status} (${event.input.result.reason}: ${event.input.result.output})` : '',
        };
      }
      if (event.type === 'status' && event.input.level === scope) {
        const to = event.input.to;
        const what = scope === 'instance' ? `${event.input.service}/${event.input.instance}` : event.input.service;
        return { active: wanted.has(to), value: null, summary: `${what} is ${to}${wanted.has(to) ? '' : ` (was ${event.input.from}, alert on ${list})`}` };
      }
      return undefined;
    },
  };
};
