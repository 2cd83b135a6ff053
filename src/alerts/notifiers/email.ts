import type { Transporter } from 'nodemailer';
import type { EmailNotifierConfig } from '../../config/alerts.js';
import { itemLine, notificationText } from '../render.js';
import type { DeliveryOutcome, Notification } from '../types.js';
import type { NotifierFactory } from './types.js';

/**
 * E-mail over SMTP (nodemailer): a text and an HTML part, the Message-ID
 * made from the idempotency key (a mail system can drop a second copy) and
 * the key in X-Healthmesh-Idempotency-Key. Connection, greeting and socket
 * timeouts are the notifier's timeout. A 5xx answer is permanent (no retry),
 * anything else is retried.
 */
export const emailNotifier: NotifierFactory<EmailNotifierConfig> = (config) => {
  // nodemailer is loaded on the first send: it adds ~14 MB to a daemon that may never mail.
  let transport: Promise<Transporter> | undefined;
  const transportOf = (): Promise<Transporter> =>
    (transport ??= import('nodemailer').then(({ default: nodemailer }) => nodemailer.createTransport(smtpTransportOptions(config))));
  const secrets = [config.password, config.user].filter((s): s is string => !!s && s.length >= 4);
  const redact = (text: string) => secrets.reduce((t, s) => t.split(s).join('***'), text);
  return {
    async send(notification, ctx): Promise<DeliveryOutcome> {
      const aborted = new Promise<DeliveryOutcome>((resolve) => {
        const onAbort = () => resolve({ ok: false, retryable: true, error: `timed out after ${config.timeout} ms` });
        if (ctx.signal.aborted) onAbort();
        else ctx.signal.addEventListener('abort', onAbort, { once: true });
      });
      const sending = transportOf().then((t) =>
        t
          .sendMail({
            from: config.from,
            to: config.to,
            subject: `[healthmesh] ${notification.status.toUpperCase()}: ${notification.title}`.slice(0, 200),
            text: notificationText(notification),
            html: emailHtml(notification),
            messageId: `<${ctx.idempotencyKey}@healthmesh>`,
            headers: { 'X-Healthmesh-Idempotency-Key': ctx.idempotencyKey },
          })
          .then(
            (info): DeliveryOutcome => ({ ok: true, detail: oneLine(String(info.response ?? 'accepted')) }),
            (err: Error & { responseCode?: number; code?: string }): DeliveryOutcome => ({
              ok: false,
              retryable: !(err.responseCode !== undefined && err.responseCode >= 500),
              error: redact(`${err.code ?? 'SMTP'}${err.responseCode ? ` ${err.responseCode}` : ''}: ${oneLine(err.message)}`),
            }),
          ),
      );
      return Promise.race([sending, aborted]);
    },
    async close() {
      if (transport) (await transport).close();
    },
  };
};

/** The HTML part: the title and a table of the alerts. */
export function emailHtml(n: Notification): string {
  const rows = n.items.map((i) => `<tr><td>${esc(i.event)}</td><td>${esc(i.level)}</td><td>${esc(itemLine(i))}</td></tr>`).join('');
  return `<!doctype html><html><body><h2>${esc(n.title)}</h2><table border="1" cellpadding="4"><tr><th>event</th><th>level</th><th>alert</th></tr>${rows}</table><p>healthmesh notification ${esc(n.id)}</p></body></html>`;
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, 200);
}

/** The SMTP connection of an e-mail notifier's settings (the notifier and mailed reports share it). */
export function smtpTransportOptions(config: EmailNotifierConfig) {
  return {
    host: config.host,
    port: config.port,
    secure: config.secure,
    requireTLS: config.require_tls,
    tls: { rejectUnauthorized: config.tls_verify },
    connectionTimeout: config.timeout,
    greetingTimeout: config.timeout,
    socketTimeout: config.timeout,
    ...(config.user !== undefined ? { auth: { user: config.user, pass: config.password ?? '' } } : {}),
  };
}
