/**
 * Sending a scheduled report through a notifier of `alerts.notifiers`:
 * e-mail carries the file as an attachment (nodemailer, the notifier's SMTP
 * settings); a webhook gets a JSON notice (signed like alert webhooks when
 * the notifier has a secret) with a link to the file when `reports.link_base`
 * is set. Other notifier kinds cannot carry a report: the wiring refuses
 * them at start.
 */
import { smtpTransportOptions } from '../alerts/notifiers/email.js';
import { basename } from 'node:path';
import { IDEMPOTENCY_HEADER, SIGNATURE_HEADER, signBody } from '../alerts/notifiers/webhook.js';
import type { EmailNotifierConfig, NotifierConfig, WebhookNotifierConfig } from '../config/alerts.js';
import { VERSION } from '../version.js';
import type { ReportDocument } from './types.js';

/** Notifier kinds that can carry a report. */
export const REPORT_NOTIFIER_KINDS = ['email', 'webhook'] as const;

/** A report to send. */
export interface ReportDelivery {
  schedule: string;
  document: ReportDocument;
  /** The file (written, or in a temporary folder when the schedule does not keep it). */
  path: string;
  contentType: string;
  /** Link to the kept file, or null. */
  link: string | null;
  /** Same on every try of one run (run time + schedule). */
  idempotencyKey: string;
}

/** The JSON a webhook receives for a report. */
export interface ReportNotice {
  version: 1;
  event: 'report';
  schedule: string;
  type: string;
  title: string;
  file: string;
  contentType: string;
  link: string | null;
  from: string;
  to: string;
  generatedAt: string;
}

/** Send; throws an Error saying what failed (the scheduler records it and retries). */
export async function deliverReport(name: string, notifier: NotifierConfig, d: ReportDelivery): Promise<void> {
  if (notifier.kind === 'email') return sendMail(notifier, d);
  if (notifier.kind === 'webhook') return postNotice(notifier, d);
  throw new Error(`notifier ${name} (${notifier.kind}) cannot carry a report (use email or webhook)`);
}

function subject(d: ReportDelivery): string {
  const r = d.document.range;
  return `[healthmesh] ${d.document.title} (${new Date(r.from).toISOString().slice(0, 10)} to ${new Date(r.to).toISOString().slice(0, 10)})`;
}

async function sendMail(config: EmailNotifierConfig, d: ReportDelivery): Promise<void> {
  // Loaded on the first mailed report (see the e-mail notifier).
  const { default: nodemailer } = await import('nodemailer');
  const transport = nodemailer.createTransport(smtpTransportOptions(config));
  try {
    await transport.sendMail({
      from: config.from,
      to: config.to,
      subject: subject(d),
      text: `${d.document.title}\n\nThe ${d.document.type} report of schedule "${d.schedule}" is attached (${basename(d.path)}).${d.link ? `\nAlso at ${d.link}` : ''}\n\n${d.document.notes.map((n) => `- ${n}`).join('\n')}\n`,
      attachments: [{ filename: basename(d.path), path: d.path, contentType: d.contentType }],
      messageId: `<${d.idempotencyKey}@healthmesh>`,
      headers: { 'X-Healthmesh-Idempotency-Key': d.idempotencyKey },
    });
  } catch (err) {
    const e = err as Error & { responseCode?: number; code?: string };
    const secret = config.password;
    const msg = `${e.code ?? 'SMTP'}${e.responseCode ? ` ${e.responseCode}` : ''}: ${e.message}`;
    throw new Error(secret ? msg.split(secret).join('***') : msg);
  } finally {
    transport.close();
  }
}

async function postNotice(config: WebhookNotifierConfig, d: ReportDelivery): Promise<void> {
  const doc = d.document;
  const notice: ReportNotice = {
    version: 1,
    event: 'report',
    schedule: d.schedule,
    type: doc.type,
    title: doc.title,
    file: basename(d.path),
    contentType: d.contentType,
    link: d.link,
    from: new Date(doc.range.from).toISOString(),
    to: new Date(doc.range.to).toISOString(),
    generatedAt: new Date(doc.generatedAt).toISOString(),
  };
  const body = JSON.stringify(notice);
  const headers: Record<string, string> = {
    ...Object.fromEntries(Object.entries(config.headers).map(([k, v]) => [k.toLowerCase(), v])),
    'content-type': 'application/json',
    'user-agent': `healthmesh/${VERSION}`,
    [IDEMPOTENCY_HEADER]: d.idempotencyKey,
  };
  if (config.secret) headers[SIGNATURE_HEADER] = signBody(body, config.secret);
  let res: Response;
  try {
    res = await fetch(config.url, { method: 'POST', body, headers, signal: AbortSignal.timeout(config.timeout) });
  } catch (err) {
    const cause = (err as Error & { cause?: { code?: string } }).cause?.code;
    throw new Error(`POST ${new URL(config.url).origin}: ${cause ?? (err as Error).message}`);
  }
  await res.arrayBuffer().catch(() => undefined);
  if (!res.ok) throw new Error(`POST ${new URL(config.url).origin}: HTTP ${res.status}`);
}
