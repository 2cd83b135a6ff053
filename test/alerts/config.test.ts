import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { alertsSchema } from '../../src/config/alerts.js';
import { parseConfig } from '../../src/config/load.js';
import { isConfigError, type ConfigError } from '../../src/core/errors.js';

const EXAMPLE = readFileSync(new URL('../../examples/alerts.yaml', import.meta.url), 'utf8');
const ENV = {
  ALERT_WEBHOOK_SECRET: 'example-secret-0123456789',
  SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/XYZSECRET',
  SMTP_PASSWORD: 'smtp-password-xyz',
};

function problems(text: string, env: NodeJS.ProcessEnv = ENV): ConfigError {
  try {
    parseConfig(text, { file: 'alerts.yaml', env });
  } catch (err) {
    if (isConfigError(err)) return err;
    throw err;
  }
  throw new Error('the config was accepted');
}

const base = `
services:
  db: { instances: [{ address: 127.0.0.1:5432 }], checks: [{ kind: tcp }] }
alerts:
  notifiers:
    hook: { kind: webhook, url: "http://127.0.0.1:9000/x" }
  defaults: { notify: [hook] }
  rules:
`;

describe('alerts: config section', () => {
  it('examples/alerts.yaml is valid and complete', () => {
    const config = parseConfig(EXAMPLE, { file: 'examples/alerts.yaml', env: ENV });
    const a = config.alerts!;
    expect(Object.keys(a.notifiers).sort()).toEqual(['alertmanager', 'log', 'oncall-mail', 'ops-webhook', 'slack']);
    expect(a.rules.map((r) => r.when.kind).sort()).toEqual([
      'anomaly',
      'burn_rate',
      'forecast',
      'reason',
      'status',
      'status',
      'threshold',
      'threshold',
      'trend',
    ]);
    expect(config.services.orders!.slo).toMatchObject({ objective: 99.9, window: 30 * 86_400_000, kind: 'availability', exclude_maintenance: true });
    expect(a.rules[0]).toMatchObject({
      for: 60_000,
      keep_firing_for: 120_000,
      repeat: 3_600_000,
      max_reminders: 3,
      escalate: { after: 900_000, to: 'critical' },
    });
    expect(a.rules[1]!.exec).toMatchObject({ timeout: 30_000, min_interval: 600_000 });
    expect(a.maintenance.map((m) => m.name)).toEqual(['nightly-vacuum', 'migration']);
    expect(a.defaults).toMatchObject({ group_wait: 30_000, group_interval: 300_000, send_resolved: true });
  });

  it('an unset secret is reported with its line, never with a value', () => {
    const err = problems(EXAMPLE, { ...ENV, SMTP_PASSWORD: undefined });
    expect(err.issues).toEqual([
      expect.objectContaining({ path: 'alerts.notifiers.oncall-mail.password', message: expect.stringContaining('SMTP_PASSWORD is not set') }),
    ]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the text shows the ${VAR} syntax itself
    expect(err.issues[0]!.line).toBe(EXAMPLE.split('\n').findIndex((l) => l.includes('${SMTP_PASSWORD}')) + 1);
  });

  it('secrets never appear in an error message about their field', () => {
    const err = problems(EXAMPLE.replace('port: 587', 'port: 99999'));
    expect(err.message).toContain('alerts.notifiers.oncall-mail.port');
    for (const v of Object.values(ENV)) expect(err.message).not.toContain(v);
  });

  it.each([
    [`    - { name: r1, when: { kind: status }, notify: [pager] }`, 'alerts.rules[0].notify[0]', 'no notifier named "pager" (defined: hook)'],
    [`    - { name: r1, match: { service: orders }, when: { kind: status } }`, 'alerts.rules[0].match.service[0]', 'no service named "orders"'],
    [`    - { name: r1, match: { check: nope }, when: { kind: status } }`, 'alerts.rules[0].match.check[0]', 'no check named "nope"'],
    [`    - { name: r1, when: { kind: status } }\n    - { name: r1, when: { kind: status } }`, 'alerts.rules[1].name', 'already used by rules[0]'],
    [
      `    - { name: r1, when: { kind: trending } }`,
      'alerts.rules[0].when.kind',
      'unknown or missing condition kind (allowed: status, reason, threshold, trend, forecast, anomaly, burn_rate) (found: "trending")',
    ],
    [`    - { name: r1, scope: check, when: { kind: trend, series: score } }`, 'alerts.rules[0].scope', 'score is kept per instance and per service'],
    [`    - { name: r1, scope: service, when: { kind: anomaly, series: latency_ms } }`, 'alerts.rules[0].scope', 'latency_ms is kept per check'],
    [`    - { name: r1, when: { kind: burn_rate, window: page, factor: 3 } }`, 'alerts.rules[0].when.factor', 'factor applies to a named window'],
    [
      `    - { name: r1, when: { kind: threshold, series: latency_ms, op: ">", value: 1, window: "5 parsecs" } }`,
      'alerts.rules[0].when.window',
      'is not a duration',
    ],
    [
      `    - { name: r1, when: { kind: status }, level: warning, escalate: { after: 1m, to: info } }`,
      'alerts.rules[0].escalate.to',
      'escalation must go above',
    ],
    [`    - { name: r1, scope: service, when: { kind: reason, reason: tls } }`, 'alerts.rules[0].scope', 'use scope: check'],
  ])('names the culprit: %s', (rules, path, message) => {
    const err = problems(base + rules);
    const issue = err.issues.find((i) => i.path === path);
    expect(issue, err.message).toBeDefined();
    expect(issue!.message).toContain(message);
    expect(issue!.line).toBeGreaterThan(base.split('\n').length - 2);
  });

  it('a recurring window needs a valid cron and a duration; a one-off one start and end', () => {
    const err = problems(`${base}    - { name: r1, when: { kind: status } }
  maintenance:
    - { name: m1, matchers: { service: db }, cron: "61 * * * *", duration: 1h }
    - { name: m2, matchers: { service: db }, cron: "0 2 * * *" }
    - { name: m3, matchers: { service: db }, start: 2026-01-02T00:00:00Z }
`);
    expect(err.issues.map((i) => [i.path, i.message.slice(0, 24)])).toEqual([
      ['alerts.maintenance[0].cron', 'not a cron expression (e'],
      ['alerts.maintenance[1].duration', 'a cron window needs dura'],
      ['alerts.maintenance[2].cron', 'give start: and end:, or'],
    ]);
  });

  it('the section is optional and has defaults for everything but rules and notifiers', () => {
    expect(parseConfig('services: {}\n').alerts).toBeUndefined();
    expect(alertsSchema.parse({})).toMatchObject({ rules: [], notifiers: {}, outbox: { max_attempts: 8, backoff: 1000 } });
  });
});
