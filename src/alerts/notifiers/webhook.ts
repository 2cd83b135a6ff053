import { createHmac } from 'node:crypto';
import type { WebhookNotifierConfig } from '../../config/alerts.js';
import { VERSION } from '../../version.js';
import { HttpPoster, urlSecrets } from './http-post.js';
import type { NotifierFactory } from './types.js';

/** Header with the HMAC-SHA256 of the body: `sha256=<hex>`. */
export const SIGNATURE_HEADER = 'x-healthmesh-signature';
/** Header with the delivery's idempotency key (the same on every try). */
export const IDEMPOTENCY_HEADER = 'idempotency-key';

/** `sha256=` + hex HMAC-SHA256 of `body` with `secret`: what X-Healthmesh-Signature carries. */
export function signBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Generic webhook: POSTs the Notification as JSON (README "Alerts" documents
 * the schema), with Idempotency-Key, and X-Healthmesh-Signature when a
 * secret is set. Configured headers are sent too but cannot replace these.
 */
export const webhookNotifier: NotifierFactory<WebhookNotifierConfig> = (config) => {
  const poster = new HttpPoster(config.timeout, [...urlSecrets(config.url), ...(config.secret ? [config.secret] : []), ...Object.values(config.headers)]);
  return {
    send(notification, ctx) {
      const body = JSON.stringify(notification);
      const headers: Record<string, string> = {
        ...lower(config.headers),
        'content-type': 'application/json',
        'user-agent': `healthmesh/${VERSION}`,
        [IDEMPOTENCY_HEADER]: ctx.idempotencyKey,
      };
      if (config.secret) headers[SIGNATURE_HEADER] = signBody(body, config.secret);
      return poster.post(config.url, body, headers, ctx.signal);
    },
    close: () => poster.close(),
  };
};

function lower(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}
