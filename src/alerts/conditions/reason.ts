import type { ConditionConfig } from '../../config/alerts.js';
import { compare, type ConditionFactory } from './types.js';

type ReasonConfig = Extract<ConditionConfig, { kind: 'reason' }>;

/** Reason families: one word for the codes of one cause (core/result.ts `Reason`). */
export const REASON_FAMILIES: Readonly<Record<string, readonly string[]>> = {
  tls: ['tls', 'cert_expiring', 'cert_expired', 'cert_hostname', 'cert_untrusted'],
  dns: ['dns', 'nxdomain', 'servfail', 'dns_refused', 'answer_mismatch'],
  grpc: ['grpc_not_serving', 'grpc_service_unknown', 'grpc_unimplemented', 'grpc_error'],
  plugin: ['plugin_warning', 'plugin_critical', 'plugin_unknown', 'exec_failed'],
  ttl: ['ttl_expired', 'ttl_warn', 'ttl_fail'],
  connect: ['connect_refused', 'connect_reset', 'unreachable', 'timeout'],
  threshold: ['threshold_warning', 'threshold_critical', 'packet_loss'],
};

/**
 * `reason`: the newest result of a check has one of the reason codes (a
 * family name stands for its codes) and, with `metric`, that result carries
 * the metric and it compares true (`days_left < 14`). A result of another
 * reason clears it.
 */
export const reasonCondition: ConditionFactory<ReasonConfig> = (config) => {
  const codes = new Set<string>();
  for (const r of config.reason) for (const c of REASON_FAMILIES[r] ?? [r]) codes.add(c);
  const metric = config.metric;
  return {
    scope: 'check',
    listens: ['result'],
    evaluate(event, _ctx, detail) {
      if (event.type !== 'result') return undefined;
      const { check, result } = event.input;
      if (!codes.has(result.reason)) return { active: false, value: null, summary: detail ? `${check.checkId}: ${result.reason}` : '' };
      if (!metric) return { active: true, value: null, summary: `${check.checkId}: ${result.reason}: ${result.output}` };
      const value = result.metrics?.[metric.name];
      if (value === undefined) return { active: false, value: null, summary: `${check.checkId}: no ${metric.name} in the result` };
      const active = compare(value, metric.op, metric.value);
      return {
        active,
        value,
        summary: `${check.checkId}: ${metric.name} ${value} ${active ? '' : 'not '}${metric.op} ${metric.value} (${result.reason}: ${result.output})`,
      };
    },
  };
};
