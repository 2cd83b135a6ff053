import { Cron } from 'croner';
import { globTest } from '../core/glob.js';
import { z } from 'zod';
import { duration, positiveDuration } from './common.js';

/**
 * The `alerts:` section: rules, notifiers, silences, maintenance windows and
 * the delivery outbox. Durations are parsed to milliseconds like everywhere
 * in the config. Cross-references (a rule naming a notifier, a service) are
 * checked by `alertCrossChecks`, which config/load.ts calls with the rest.
 */

const name = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, "_", "." and "-"');
const statusName = z.enum(['HEALTHY', 'DEGRADED', 'UNHEALTHY', 'UNKNOWN']);
/** One value or a list; `*` wildcards allowed (`api-*`). */
const oneOrMany = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]));

/** Which checks, instances or services a rule looks at. Every field given must match. */
export const matchSchema = z
  .strictObject({
    service: oneOrMany.optional().meta({ description: 'Service name(s), * wildcards allowed' }),
    instance: oneOrMany.optional().meta({ description: 'Instance id(s), * wildcards allowed' }),
    check: oneOrMany.optional().meta({ description: 'Check name(s), * wildcards allowed' }),
    check_kind: oneOrMany.optional().meta({ description: 'Check kind(s): http, tcp, tls, …' }),
    tags: z.array(z.string().min(1)).optional().meta({ description: 'The instance has every one of these tags' }),
    zone: oneOrMany.optional().meta({ description: 'Zone(s) of the instance' }),
  })
  .prefault({});

const comparison = z.enum(['<', '<=', '>', '>=', '==', '!=']);

/** `status`: the thresholded status of a check, an instance or a service is one of `is`. */
const statusCondition = z.strictObject({
  kind: z.literal('status'),
  is: z
    .union([statusName, z.array(statusName).min(1)])
    .transform((v) => (Array.isArray(v) ? v : [v]))
    .default(['UNHEALTHY']),
});

/** `reason`: the newest result of a check has one of these reason codes (families: tls, dns, grpc, plugin, ttl, connect, threshold), optionally with a result metric compared. */
const reasonCondition = z.strictObject({
  kind: z.literal('reason'),
  reason: oneOrMany.meta({ description: 'Reason code(s) or family: tls, dns, grpc, plugin, ttl, connect, threshold' }),
  metric: z
    .strictObject({ name: z.string().min(1), op: comparison, value: z.number() })
    .optional()
    .meta({ description: 'A number of the result (e.g. days_left < 14); the condition holds only when it compares true' }),
});

/** `threshold`: an aggregate of a numeric series over a window compared with a value. */
const thresholdCondition = z.strictObject({
  kind: z.literal('threshold'),
  series: z.string().min(1).meta({ description: 'latency_ms, failure (1/0 per result), score, or any result metric (days_left, cpu_percent, …)' }),
  agg: z.enum(['avg', 'min', 'max', 'p50', 'p90', 'p95', 'p99', 'last', 'rate', 'count']).default('avg'),
  window: positiveDuration.default(300_000),
  op: comparison,
  value: z.number(),
  min_samples: z.number().int().min(1).default(1).meta({ description: 'Fewer samples in the window: the condition does not hold' }),
});

const analysisSeries = z
  .string()
  .regex(/^[A-Za-z0-9_.]+$/, 'use a series name: latency_ms, failure, score or a system reading such as cpu_percent')
  .meta({ description: 'latency_ms and failure (rate) of a check, score of an instance or a service, or a system check reading (cpu_percent, …)' });

/** `trend`: the series' trend direction is one of `direction` (src/analysis/trend.ts). */
const trendCondition = z.strictObject({
  kind: z.literal('trend'),
  series: analysisSeries.default('score'),
  direction: z
    .union([z.enum(['improving', 'stable', 'degrading', 'volatile']), z.array(z.enum(['improving', 'stable', 'degrading', 'volatile'])).min(1)])
    .transform((v) => (Array.isArray(v) ? v : [v]))
    .default(['degrading']),
});

/** `forecast`: the series is forecast to cross `threshold` within `within` (src/analysis/forecast.ts). */
const forecastCondition = z.strictObject({
  kind: z.literal('forecast'),
  series: analysisSeries.default('score'),
  threshold: z.number().meta({ description: 'The value whose crossing is forecast (e.g. score 50, latency_ms 500, disk_percent 95)' }),
  within: positiveDuration.default(3_600_000).meta({ description: 'Holds when the crossing is forecast this soon or sooner' }),
  edge: z.enum(['at', 'earliest', 'latest']).default('at').meta({
    description: 'Date the crossing by the point forecast (at), the 90 % interval near edge (earliest: plausible by then) or far edge (latest: likely by then)',
  }),
});

/** `anomaly`: the newest minute of the series scored at least `min_score` (src/analysis/anomaly/robust.ts). */
const anomalyCondition = z.strictObject({
  kind: z.literal('anomaly'),
  series: analysisSeries.default('latency_ms'),
  min_score: z.number().min(0).max(1).default(0.6).meta({ description: "Anomaly score in [0, 1]; 0.6 is the detector's own flag (p ≤ 10⁻⁶)" }),
});

/** `burn_rate`: the service's SLO burns its error budget too fast (multi-window, multi-burn-rate). */
const burnRateCondition = z
  .strictObject({
    kind: z.literal('burn_rate'),
    window: z
      .enum(['page', 'ticket', '1h/5m', '6h/30m', '3d/6h'])
      .default('page')
      .meta({ description: 'page: 1h/5m over 14.4× or 6h/30m over 6×; ticket: 3d/6h over 1×; or one named window' }),
    factor: z.number().positive().optional().meta({ description: "Burn rate both windows must exceed (a named window only; default the workbook's)" }),
  })
  .refine((c) => c.factor === undefined || (c.window !== 'page' && c.window !== 'ticket'), {
    message: 'factor applies to a named window (1h/5m, 6h/30m, 3d/6h)',
    path: ['factor'],
  });

/**
 * Condition kinds. Adding one (trend, forecast, anomaly, SLO burn rate from
 * src/analysis/) is one schema here, one file in src/alerts/conditions/ and
 * one line in its map.
 */
export const conditionSchema = z.discriminatedUnion(
  'kind',
  [statusCondition, reasonCondition, thresholdCondition, trendCondition, forecastCondition, anomalyCondition, burnRateCondition],
  {
    error: (issue) =>
      issue.code === 'invalid_union'
        ? 'unknown or missing condition kind (allowed: status, reason, threshold, trend, forecast, anomaly, burn_rate)'
        : undefined,
  },
);

/** Condition kinds read from the daemon's analysis (samples published by src/wiring/analysis.ts). */
export const ANALYSIS_CONDITION_KINDS = ['trend', 'forecast', 'anomaly', 'burn_rate'] as const;

const level = z.enum(['info', 'warning', 'critical']);

const execAction = z.strictObject({
  command: z
    .array(z.string().refine((s) => !s.includes('\0'), { message: 'must not contain a NUL character' }))
    .min(1, 'give at least the program, e.g. ["/usr/local/bin/restart-api"]')
    .meta({ description: 'argv, no shell; {{service}}, {{instance}}, {{check}}, {{rule}}, {{level}} are filled in' }),
  timeout: positiveDuration.default(30_000),
  min_interval: duration.default(600_000).meta({ description: 'Run at most once this often per alert' }),
  max_output_bytes: z
    .number()
    .int()
    .min(1)
    .max(1024 * 1024)
    .default(8192),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'use a variable name'), z.string()).default({}),
});

/** One alert rule. */
export const ruleSchema = z.strictObject({
  name,
  description: z.string().optional(),
  match: matchSchema,
  scope: z
    .enum(['check', 'instance', 'service'])
    .optional()
    .meta({ description: 'What one alert is about (its labels): default check for reason/threshold, the level the status is read at for status' }),
  when: conditionSchema,
  level: level.default('warning'),
  for: duration.optional().meta({ description: 'The condition must hold this long before the alert fires (pending until then)' }),
  keep_firing_for: duration.optional().meta({ description: 'Keep firing this long after the condition clears' }),
  escalate: z.strictObject({ after: positiveDuration, to: level }).optional(),
  send_resolved: z.boolean().optional(),
  repeat: positiveDuration.optional().meta({ description: 'Remind this often while firing' }),
  max_reminders: z.number().int().min(0).optional().meta({ description: 'Reminders at most (unset: no cap)' }),
  group_by: z.array(z.string().min(1)).optional(),
  group_wait: duration.optional(),
  group_interval: positiveDuration.optional(),
  notify: z.array(name).optional().meta({ description: 'Notifier names (default: alerts.defaults.notify)' }),
  labels: z.record(z.string(), z.string()).default({}),
  annotations: z.record(z.string(), z.string()).default({}).meta({ description: 'summary, description, runbook…; {{service}} etc. filled in' }),
  exec: execAction.optional(),
});

const deliveryFields = {
  timeout: positiveDuration.default(10_000).meta({ description: 'Whole request, connect to last byte' }),
  rate_limit: z
    .strictObject({ per_minute: z.number().int().min(1), burst: z.number().int().min(1).optional() })
    .optional()
    .meta({ description: 'Most notifications sent per minute (token bucket)' }),
  max_attempts: z.number().int().min(1).max(100).optional().meta({ description: 'Tries before dead-letter (default: alerts.outbox.max_attempts)' }),
};

const httpUrl = z.url({ protocol: /^https?$/ }).meta({ description: 'http(s) URL' });

export const webhookNotifierSchema = z.strictObject({
  kind: z.literal('webhook'),
  url: httpUrl,
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the text shows the ${VAR} syntax itself
  secret: z.string().min(16, 'use at least 16 characters').optional().meta({ description: 'HMAC-SHA256 key for X-Healthmesh-Signature (use ${VAR})' }),
  headers: z.record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'not a header name'), z.string()).default({}),
  ...deliveryFields,
});
export const alertmanagerNotifierSchema = z.strictObject({
  kind: z.literal('alertmanager'),
  url: httpUrl.meta({ description: 'Base URL of Alertmanager, e.g. http://127.0.0.1:9093' }),
  headers: z.record(z.string(), z.string()).default({}),
  ...deliveryFields,
});
export const slackNotifierSchema = z.strictObject({
  kind: z.literal('slack'),
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the text shows the ${VAR} syntax itself
  url: httpUrl.meta({ description: 'Incoming-webhook URL (a secret: use ${VAR})' }),
  ...deliveryFields,
});
export const emailNotifierSchema = z.strictObject({
  kind: z.literal('email'),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(587),
  secure: z.boolean().default(false).meta({ description: 'TLS from the start (port 465); false: STARTTLS when offered' }),
  require_tls: z.boolean().default(false),
  tls_verify: z.boolean().default(true),
  user: z.string().optional(),
  password: z.string().optional(),
  from: z.string().min(3),
  to: z.array(z.string().min(3)).min(1),
  ...deliveryFields,
});
export const logNotifierSchema = z.strictObject({
  kind: z.literal('log'),
  level: z.enum(['info', 'warn', 'error']).default('warn'),
  ...deliveryFields,
});

/** Notifier kinds. Adding one: a schema here, a file in src/alerts/notifiers/, a line in its map. */
export const notifierSchema = z.discriminatedUnion(
  'kind',
  [webhookNotifierSchema, alertmanagerNotifierSchema, slackNotifierSchema, emailNotifierSchema, logNotifierSchema],
  { error: (issue) => (issue.code === 'invalid_union' ? 'unknown or missing notifier kind (allowed: webhook, alertmanager, slack, email, log)' : undefined) },
);

/** Label matchers of a silence or maintenance window: label → value (`*` wildcards) or list. */
export const matchersSchema = z
  .record(z.string().min(1), oneOrMany)
  .refine((m) => Object.keys(m).length > 0, { message: 'give at least one matcher, e.g. { service: api }' });

const isoTime = z.union([z.iso.datetime({ offset: true }), z.number()]).transform((v) => (typeof v === 'number' ? v : Date.parse(v)));

export const silenceSchema = z
  .strictObject({
    id: name.optional(),
    matchers: matchersSchema,
    start: isoTime.optional(),
    end: isoTime,
    comment: z.string().default(''),
    created_by: z.string().default('config'),
  })
  .refine((s) => s.start === undefined || s.start < s.end, { message: 'end must be after start', path: ['end'] });

export const maintenanceSchema = z
  .strictObject({
    name,
    matchers: matchersSchema,
    start: isoTime.optional(),
    end: isoTime.optional(),
    cron: z.string().refine(validCron, { message: 'not a cron expression (e.g. "0 2 * * SUN": minute hour day month weekday)' }).optional(),
    duration: positiveDuration.optional().meta({ description: 'Length of each recurring window' }),
    timezone: z.string().optional(),
  })
  .superRefine((m, ctx) => {
    if (m.cron !== undefined) {
      if (m.duration === undefined) ctx.addIssue({ code: 'custom', path: ['duration'], message: 'a cron window needs duration: (e.g. 2h)', input: m });
    } else if (m.start === undefined || m.end === undefined) {
      ctx.addIssue({ code: 'custom', path: ['cron'], message: 'give start: and end:, or cron: with duration:', input: m });
    } else if (m.start >= m.end) ctx.addIssue({ code: 'custom', path: ['end'], message: 'end must be after start', input: m });
  });

function validCron(pattern: string): boolean {
  try {
    new Cron(pattern, { paused: true }).stop();
    return true;
  } catch {
    return false;
  }
}

export const alertsSchema = z.strictObject({
  defaults: z
    .strictObject({
      for: duration.default(0),
      keep_firing_for: duration.default(0),
      send_resolved: z.boolean().default(true),
      repeat: positiveDuration.optional(),
      max_reminders: z.number().int().min(0).optional(),
      group_by: z.array(z.string().min(1)).default(['rule']),
      group_wait: duration.default(30_000),
      group_interval: positiveDuration.default(300_000),
      notify: z.array(name).default([]),
    })
    .prefault({}),
  notifiers: z.record(name, notifierSchema).default({}),
  rules: z.array(ruleSchema).default([]),
  silences: z.array(silenceSchema).default([]),
  maintenance: z.array(maintenanceSchema).default([]),
  outbox: z
    .strictObject({
      max_attempts: z.number().int().min(1).max(100).default(8),
      backoff: positiveDuration.default(1_000).meta({ description: 'First retry after about this long; doubles each try (±20 % jitter)' }),
      max_backoff: positiveDuration.default(600_000),
      path: z.string().min(1).optional().meta({ description: 'SQLite file of the outbox (default: storage.path)' }),
      keep_delivered: positiveDuration.default(7 * 86_400_000),
    })
    .prefault({}),
});

export type AlertsConfig = z.output<typeof alertsSchema>;
export type RuleConfig = z.output<typeof ruleSchema>;
export type ConditionConfig = z.output<typeof conditionSchema>;
export type ConditionKind = ConditionConfig['kind'];
export type NotifierConfig = z.output<typeof notifierSchema>;
export type NotifierKind = NotifierConfig['kind'];
export type WebhookNotifierConfig = z.output<typeof webhookNotifierSchema>;
export type AlertmanagerNotifierConfig = z.output<typeof alertmanagerNotifierSchema>;
export type SlackNotifierConfig = z.output<typeof slackNotifierSchema>;
export type EmailNotifierConfig = z.output<typeof emailNotifierSchema>;
export type LogNotifierConfig = z.output<typeof logNotifierSchema>;
export type SilenceConfig = z.output<typeof silenceSchema>;
export type MaintenanceConfig = z.output<typeof maintenanceSchema>;
export type ExecActionConfig = z.output<typeof execAction>;
export type Level = z.output<typeof level>;

/** What the cross-checks need of the whole config (kept structural so this file does not import schema.ts). */
export interface AlertsHost {
  alerts?: AlertsConfig;
  services: Record<
    string,
    { checks: Array<{ name?: string; kind: string }>; instances: Array<{ checks: Array<{ name?: string; kind: string }> }>; slo?: unknown }
  >;
}

/**
 * Checks the schema cannot express, each with its YAML path: a rule or the
 * defaults naming an unknown notifier, a rule naming a service or check that
 * no service has (wildcards excepted), duplicate rule names, a rule without
 * any notifier.
 */
export function alertCrossChecks(config: AlertsHost): Array<{ path: Array<string | number>; message: string }> {
  const alerts = config.alerts;
  if (!alerts) return [];
  const problems: Array<{ path: Array<string | number>; message: string }> = [];
  const notifiers = Object.keys(alerts.notifiers);
  const known = (n: string) => notifiers.includes(n);
  const allowed = notifiers.length ? `defined: ${notifiers.join(', ')}` : 'define it under alerts.notifiers';
  alerts.defaults.notify.forEach((n, i) => {
    if (!known(n)) problems.push({ path: ['alerts', 'defaults', 'notify', i], message: `no notifier named "${n}" (${allowed})` });
  });
  const services = Object.keys(config.services);
  const checkNames = new Set<string>();
  for (const s of Object.values(config.services)) {
    for (const c of s.checks) checkNames.add(c.name ?? c.kind);
    for (const inst of s.instances) for (const c of inst.checks) checkNames.add(c.name ?? c.kind);
  }
  const seen = new Map<string, number>();
  alerts.rules.forEach((rule, i) => {
    const at = ['alerts', 'rules', i];
    const first = seen.get(rule.name);
    if (first !== undefined) problems.push({ path: [...at, 'name'], message: `rule name "${rule.name}" is already used by rules[${first}]` });
    else seen.set(rule.name, i);
    rule.notify?.forEach((n, j) => {
      if (!known(n)) problems.push({ path: [...at, 'notify', j], message: `no notifier named "${n}" (${allowed})` });
    });
    if ((rule.notify ?? alerts.defaults.notify).length === 0) {
      problems.push({ path: [...at, 'notify'], message: 'no notifier: give notify: [name] here or alerts.defaults.notify' });
    }
    rule.match.service?.forEach((s, j) => {
      if (!s.includes('*') && !services.includes(s))
        problems.push({ path: [...at, 'match', 'service', j], message: `no service named "${s}" (define it under services:)` });
    });
    rule.match.check?.forEach((c, j) => {
      if (!c.includes('*') && !checkNames.has(c)) problems.push({ path: [...at, 'match', 'check', j], message: `no check named "${c}" in any service` });
    });
    problems.push(...scopeProblems(rule, at, services, config));
    if (rule.escalate && levelRank(rule.escalate.to) <= levelRank(rule.level)) {
      problems.push({ path: [...at, 'escalate', 'to'], message: `escalation must go above level ${rule.level} (info < warning < critical)` });
    }
  });
  return problems;
}

/** Scope and subject checks of a rule's condition. */
function scopeProblems(
  rule: RuleConfig,
  at: Array<string | number>,
  services: string[],
  config: AlertsHost,
): Array<{ path: Array<string | number>; message: string }> {
  const when = rule.when;
  const out: Array<{ path: Array<string | number>; message: string }> = [];
  if (when.kind === 'reason' || when.kind === 'threshold') {
    if (rule.scope !== undefined && rule.scope !== 'check')
      out.push({ path: [...at, 'scope'], message: `a ${when.kind} condition is about one check: use scope: check (or leave it out)` });
  } else if (when.kind === 'burn_rate') {
    if (rule.scope !== undefined && rule.scope !== 'service')
      out.push({ path: [...at, 'scope'], message: 'a burn_rate condition is about a service: use scope: service (or leave it out)' });
    const test = globs(rule.match.service);
    const withSlo = services.filter((s) => config.services[s]?.slo !== undefined);
    if (!withSlo.some((s) => !test || test(s))) {
      out.push({
        path: [...at, 'when', 'kind'],
        message: `no service this rule matches has an slo: (give services.<name>.slo${withSlo.length ? `; with one: ${withSlo.join(', ')}` : ''})`,
      });
    }
  } else if (when.kind !== 'status') {
    const scoreScopes = ['instance', 'service'];
    if (when.series === 'score' && rule.scope === 'check')
      out.push({ path: [...at, 'scope'], message: 'score is kept per instance and per service: use scope: instance or service' });
    if (when.series !== 'score' && rule.scope !== undefined && scoreScopes.includes(rule.scope)) {
      out.push({ path: [...at, 'scope'], message: `${when.series} is kept per check: use scope: check (or leave it out)` });
    }
  }
  return out;
}

/** A `*` glob list as a test, or undefined without a list. */
function globs(list: readonly string[] | undefined): ((value: string) => boolean) | undefined {
  return list ? globTest(list) : undefined;
}

/** info 0, warning 1, critical 2. */
export function levelRank(l: Level): number {
  return l === 'info' ? 0 : l === 'warning' ? 1 : 2;
}
