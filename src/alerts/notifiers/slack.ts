import type { SlackNotifierConfig } from '../../config/alerts.js';
import { VERSION } from '../../version.js';
import { itemLine } from '../render.js';
import type { Notification } from '../types.js';
import { HttpPoster, urlSecrets } from './http-post.js';
import { IDEMPOTENCY_HEADER } from './webhook.js';
import type { NotifierFactory } from './types.js';

/** Lines listed in one Slack message; the rest are counted. */
const MAX_LINES = 20;

/**
 * Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat): a
 * `text` fallback and Block Kit blocks (header, one section listing the
 * alerts, a context line). The webhook URL is a secret.
 */
export const slackNotifier: NotifierFactory<SlackNotifierConfig> = (config) => {
  const poster = new HttpPoster(config.timeout, urlSecrets(config.url));
  return {
    send(notification, ctx) {
      const body = JSON.stringify(slackMessage(notification));
      return poster.post(
        config.url,
        body,
        { 'content-type': 'application/json', 'user-agent': `healthmesh/${VERSION}`, [IDEMPOTENCY_HEADER]: ctx.idempotencyKey },
        ctx.signal,
      );
    },
    close: () => poster.close(),
  };
};

/** The message body for a notification. */
export function slackMessage(n: Notification): { text: string; blocks: unknown[] } {
  const lines = n.items.slice(0, MAX_LINES).map((i) => `• ${escapeMrkdwn(itemLine(i))}`);
  if (n.items.length > MAX_LINES) lines.push(`… and ${n.items.length - MAX_LINES} more`);
  const emoji =
    n.status === 'resolved' ? ':white_check_mark:' : n.level === 'critical' ? ':red_circle:' : n.level === 'warning' ? ':warning:' : ':information_source:';
  return {
    text: `${n.status.toUpperCase()}: ${n.title}`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: `${n.status === 'firing' ? 'Firing' : 'Resolved'}: ${n.title}`.slice(0, 150) } },
      { type: 'section', text: { type: 'mrkdwn', text: `${emoji} ${lines.join('\n')}`.slice(0, 3000) } },
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: `healthmesh · ${n.counts.firing} firing, ${n.counts.resolved} resolved${n.counts.dependents ? `, ${n.counts.dependents} folded into root causes` : ''} · ${n.id}`,
          },
        ],
      },
    ],
  };
}

/** Slack's mrkdwn escapes: &, <, >. */
function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
