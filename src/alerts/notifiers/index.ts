/**
 * Notifier kinds, one file a kind, collected in one typed map. Adding one:
 * a schema in config/alerts.ts `notifierSchema`, a file here, a line below.
 */
import type { NotifierConfig, NotifierKind } from '../../config/alerts.js';
import { alertmanagerNotifier } from './alertmanager.js';
import { emailNotifier } from './email.js';
import { logNotifier } from './log.js';
import { slackNotifier } from './slack.js';
import type { Notifier, NotifierDeps, NotifierFactory } from './types.js';
import { webhookNotifier } from './webhook.js';

export type { AlertLogger, Notifier, NotifierDeps, NotifierFactory, SendContext } from './types.js';

/** The config of one notifier kind. */
export type NotifierConfigOf<K extends NotifierKind> = Extract<NotifierConfig, { kind: K }>;

type NotifierFactories = { [K in NotifierKind]: NotifierFactory<NotifierConfigOf<K>> };

/** Every notifier kind by name. */
export const notifierKinds = {
  webhook: webhookNotifier,
  alertmanager: alertmanagerNotifier,
  slack: slackNotifier,
  email: emailNotifier,
  log: logNotifier,
} satisfies NotifierFactories;

/** Build a notifier with its kind's factory. */
export function createNotifier<K extends NotifierKind>(config: NotifierConfigOf<K> & { kind: K }, deps: NotifierDeps): Notifier {
  const factories: NotifierFactories = notifierKinds;
  const factory: NotifierFactories[K] = factories[config.kind];
  return factory(config, deps);
}
