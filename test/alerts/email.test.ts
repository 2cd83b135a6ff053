import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { describe, expect, it } from 'vitest';
import { createNotifier } from '../../src/alerts/notifiers/index.js';
import { emailNotifierSchema } from '../../src/config/alerts.js';
import { realClock } from '../../src/core/clock.js';
import { useCleanups } from '../helpers/cleanups.js';
import { silentLogger } from './harness.js';
import { notification } from './store-contract.js';

const { track } = useCleanups();

interface Mail {
  from: string;
  to: string[];
  raw: string;
  user?: string;
}

/** A real SMTP server (smtp-server) on 127.0.0.1 that keeps each message; `reject` answers RCPT TO with that code. */
async function startSmtp(options: { reject?: number; password?: string } = {}) {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    authOptional: options.password === undefined,
    allowInsecureAuth: true,
    onAuth(auth, _session, cb) {
      if (auth.password === options.password) cb(null, { user: auth.username });
      else cb(Object.assign(new Error('bad credentials'), { responseCode: 535 }));
    },
    onRcptTo(_addr, _session, cb) {
      if (options.reject) cb(Object.assign(new Error(`mailbox unavailable (${options.reject})`), { responseCode: options.reject }));
      else cb();
    },
    onData(stream, session, cb) {
      let raw = '';
      stream.on('data', (c: Buffer) => (raw += c.toString('utf8')));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          user: session.user as string | undefined,
        });
        cb();
      });
    },
    logger: false,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return { mails, port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function mailer(port: number, over: Record<string, unknown> = {}) {
  return createNotifier(
    emailNotifierSchema.parse({
      kind: 'email',
      host: '127.0.0.1',
      port,
      from: 'healthmesh@example.test',
      to: ['ops@example.test', 'db@example.test'],
      timeout: '5s',
      ...over,
    }),
    {
      clock: realClock,
      logger: silentLogger,
      name: 'mail',
    },
  );
}

describe('e-mail notifier against a real SMTP server on loopback', () => {
  it('delivers one mail with a text and an HTML part, the subject, and the idempotency key as Message-ID and header', async () => {
    const smtp = track(await startSmtp({ password: 'smtp-pass-123' }));
    const n = mailer(smtp.port, { user: 'hm', password: 'smtp-pass-123' });
    const outcome = await n.send(notification('n1'), { idempotencyKey: 'n1:mail', signal: AbortSignal.timeout(10_000) });
    await n.close?.();
    expect(outcome).toMatchObject({ ok: true });
    expect(smtp.mails).toHaveLength(1);
    const m = smtp.mails[0]!;
    expect(m.from).toBe('healthmesh@example.test');
    expect(m.to).toEqual(['ops@example.test', 'db@example.test']);
    expect(m.user).toBe('hm');
    expect(m.raw).toMatch(/^Subject: \[healthmesh\] FIRING: db is down\r?$/m);
    expect(m.raw).toMatch(/^Message-ID: <n1:mail@healthmesh>\r?$/im);
    expect(m.raw).toMatch(/^X-Healthmesh-Idempotency-Key: n1:mail\r?$/m);
    expect(m.raw).toContain('Content-Type: text/plain');
    expect(m.raw).toContain('Content-Type: text/html');
    expect(m.raw.replace(/=\r?\n/g, '')).toContain('orders is down because db is down');
  }, 20_000);

  it.each([
    [550, false],
    [451, true],
  ])('a %i answer to RCPT TO is a failure, retryable: %s', async (code, retryable) => {
    const smtp = track(await startSmtp({ reject: code }));
    const n = mailer(smtp.port);
    const outcome = await n.send(notification('n1'), { idempotencyKey: 'k', signal: AbortSignal.timeout(10_000) });
    await n.close?.();
    expect(outcome).toMatchObject({ ok: false, retryable });
    expect(smtp.mails).toHaveLength(0);
  });

  it('a wrong password is reported without the password', async () => {
    const smtp = track(await startSmtp({ password: 'right-password' }));
    const n = mailer(smtp.port, { user: 'hm', password: 'wrong-password-xyz' });
    const outcome = await n.send(notification('n1'), { idempotencyKey: 'k', signal: AbortSignal.timeout(10_000) });
    await n.close?.();
    expect(outcome.ok).toBe(false);
    expect(JSON.stringify(outcome)).not.toContain('wrong-password-xyz');
  });
});
