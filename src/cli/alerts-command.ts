/**
 * `healthmesh alerts test --config FILE --rule NAME`: send a sample
 * notification of one rule through each of its notifiers, at once (no
 * outbox, no retry), and report every outcome, so a user can check URLs,
 * secrets and mail settings before an outage does.
 */
import type { Command } from 'commander';
import { buildNotifier } from '../alerts/alerting.js';
import { randomId } from '../alerts/notify.js';
import type { AlertLogger } from '../alerts/notifiers/index.js';
import type { Notification, NotificationItem } from '../alerts/types.js';
import { realClock, type Clock } from '../core/clock.js';
import { isConfigError } from '../core/errors.js';
import { realRandom } from '../core/random.js';
import { loadConfigFile } from '../config/load.js';

/** Options of `alerts test`. */
export interface AlertsTestOptions {
  config: string;
  rule: string;
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  /** Where report lines go (default stdout). */
  out?: (line: string) => void;
  /** The log notifier's logger (default: lines on `out`). */
  logger?: AlertLogger;
}

/** Run the test; resolves with the exit code: 0 every notifier delivered, 1 one failed or the config is bad, 2 no such rule. */
export async function alertsTest(options: AlertsTestOptions): Promise<number> {
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const clock = options.clock ?? realClock;
  let config: Awaited<ReturnType<typeof loadConfigFile>>;
  try {
    config = await loadConfigFile(options.config, options.env ?? process.env);
  } catch (err) {
    if (!isConfigError(err)) throw err;
    out(err.message);
    return 1;
  }
  const alerts = config.alerts;
  const rule = alerts?.rules.find((r) => r.name === options.rule);
  if (!alerts || !rule) {
    const names = alerts?.rules.map((r) => r.name) ?? [];
    out(`${options.config}: no rule named "${options.rule}" (${names.length ? `rules: ${names.join(', ')}` : 'no alerts.rules defined'})`);
    return 2;
  }
  const names = rule.notify ?? alerts.defaults.notify;
  const logger: AlertLogger = options.logger ?? {
    info: (_f, m) => out(`  log: ${m}`),
    warn: (_f, m) => out(`  log: ${m}`),
    error: (_f, m) => out(`  log: ${m}`),
  };
  const notification = sample(rule.name, rule.level, rule.match.service?.find((s) => !s.includes('*')) ?? 'example', clock.now());
  out(`sending a sample notification of rule "${rule.name}" to ${names.length} notifier${names.length === 1 ? '' : 's'}`);
  let failed = 0;
  for (const name of names) {
    const nc = alerts.notifiers[name]!;
    const notifier = buildNotifier(nc, { clock, logger, name });
    const ac = new AbortController();
    const timer = clock.setTimeout(() => ac.abort(), nc.timeout);
    const started = clock.now();
    const outcome = await notifier.send(notification, { idempotencyKey: `${notification.id}:${name}`, signal: ac.signal });
    clock.clearTimeout(timer);
    await notifier.close?.();
    const ms = Math.round(clock.now() - started);
    if (outcome.ok) out(`ok     ${name} (${nc.kind}): ${outcome.detail ?? 'delivered'} in ${ms} ms`);
    else {
      failed++;
      out(`FAILED ${name} (${nc.kind}): ${outcome.error}${outcome.retryable ? ' (would be retried)' : ' (would not be retried)'}`);
    }
  }
  return failed ? 1 : 0;
}

/** A firing notification with one sample alert, marked as a test. */
function sample(rule: string, level: NotificationItem['level'], service: string, now: number): Notification {
  const at = new Date(now).toISOString();
  const item: NotificationItem = {
    alertId: 'test',
    event: 'firing',
    rule,
    state: 'firing',
    level,
    labels: { rule, service, test: 'true' },
    annotations: { summary: `healthmesh alerts test: a sample notification of rule ${rule} (nothing is wrong)` },
    summary: 'sample notification',
    value: null,
    startsAt: at,
    endsAt: null,
    dependents: [],
  };
  return {
    version: 1,
    id: randomId(realRandom),
    createdAt: at,
    groupKey: `test|${rule}`,
    groupLabels: { rule },
    status: 'firing',
    level,
    title: `TEST ${rule}: sample notification`,
    counts: { firing: 1, resolved: 0, dependents: 0 },
    items: [item],
  };
}

/** Add `alerts test` to the program (cli.ts calls this once the command is wired). */
export function registerAlertsCommand(program: Command): void {
  const alerts = program.command('alerts').description('alert rules and notifiers');
  alerts
    .command('test')
    .description(
      'send a sample notification of a rule through each of its notifiers and report each outcome (exit 0 all delivered, 1 a failure, 2 no such rule)',
    )
    .requiredOption('-c, --config <file>', 'config file')
    .requiredOption('-r, --rule <name>', 'rule name')
    .action(async (o: { config: string; rule: string }) => {
      process.exitCode = await alertsTest({ config: o.config, rule: o.rule });
    });
}
