/**
 * Scheduled reports on a FakeClock: runs on the cron, files kept by `keep`
 * and `max_age`, a failed run (disk, notifier down) recorded as the last
 * error and tried again, e-mail with the report attached (a real SMTP
 * receiver) and a webhook notice with a link (a real HTTP receiver).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertsSchema } from '../../src/config/alerts.js';
import { reportsSchema } from '../../src/config/reports.js';
import { FakeClock } from '../../src/core/clock.js';
import { cleanupReports, reportFileName } from '../../src/reports/retention.js';
import { ReportScheduler } from '../../src/reports/scheduler.js';
import type { OpenedSource } from '../../src/reports/sqlite-source.js';
import { DAY, HOUR, MIN, T0, writeFixture, type Fixture } from './fixture.js';
import { fixtureSource } from './helpers.js';

let fixture: Fixture;
let opened: OpenedSource;
const quiet = { info: () => undefined, warn: () => undefined };

beforeAll(async () => {
  fixture = await writeFixture();
  opened = await fixtureSource(fixture);
}, 60_000);
afterAll(async () => {
  await opened?.close();
  await fixture?.close();
});

function folder(): string {
  return mkdtempSync(join(tmpdir(), 'hm-sched-'));
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Advance the clock and wait for any run it started. */
async function advance(clock: FakeClock, scheduler: ReportScheduler, ms: number): Promise<void> {
  clock.advance(ms);
  await scheduler.idle();
}

describe('retention', () => {
  it('keeps the newest `keep` files and none older than max_age, leaving other files alone', () => {
    const dir = folder();
    for (let d = 0; d < 6; d++) writeFileSync(join(dir, reportFileName('daily', T0 + d * DAY, 'html')), 'x');
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    writeFileSync(join(dir, reportFileName('weekly', T0, 'html')), 'other schedule');
    const keep = cleanupReports(dir, 'daily', T0 + 6 * DAY, { keep: 4 });
    expect(keep.kept).toEqual([5, 4, 3, 2].map((d) => reportFileName('daily', T0 + d * DAY, 'html')));
    expect(keep.deleted.length).toBe(2);
    const age = cleanupReports(dir, 'daily', T0 + 6 * DAY, { maxAgeMs: 2.5 * DAY });
    expect(age.kept).toEqual([5, 4].map((d) => reportFileName('daily', T0 + d * DAY, 'html')));
    expect(readdirSync(dir).sort()).toEqual(['daily-20261105T000000Z.html', 'daily-20261106T000000Z.html', 'notes.txt', 'weekly-20261101T000000Z.html']);
  });
});

describe('the scheduler', () => {
  it('runs on its cron in its zone, keeps 3 files, and shows last and next run', async () => {
    const dir = folder();
    const config = reportsSchema.parse({
      folder: dir,
      schedules: [{ name: 'daily', cron: '0 6 * * *', timezone: 'Europe/Paris', type: 'summary', format: 'markdown', range: '1d', keep: 3 }],
    });
    const clock = new FakeClock(T0);
    const scheduler = new ReportScheduler({ config, notifiers: {}, source: opened.source, clock, logger: quiet });
    scheduler.start();
    // 06:00 in Paris is 05:00 UTC in November.
    expect(scheduler.list()[0]).toMatchObject({ name: 'daily', nextRunAt: T0 + 5 * HOUR, lastRunAt: null, lastError: null, files: 0 });
    for (let d = 0; d < 5; d++) await advance(clock, scheduler, d === 0 ? 5 * HOUR : DAY);
    const status = scheduler.list()[0]!;
    expect(status).toMatchObject({
      lastError: null,
      files: 3,
      nextRunAt: T0 + 5 * DAY + 5 * HOUR,
      lastFile: 'daily-20261105T050000Z.md',
      running: false,
      failedTries: 0,
    });
    expect(status.lastSuccessAt).toBe(T0 + 4 * DAY + 5 * HOUR);
    expect(readdirSync(join(dir, 'daily')).sort()).toEqual(['daily-20261103T050000Z.md', 'daily-20261104T050000Z.md', 'daily-20261105T050000Z.md']);
    expect(statSync(join(dir, 'daily', 'daily-20261105T050000Z.md')).mode & 0o777).toBe(0o600);
    await scheduler.stop();
  }, 30_000);

  it('deletes files older than max_age', async () => {
    const dir = folder();
    const config = reportsSchema.parse({
      folder: dir,
      schedules: [{ name: 'h', cron: '0 * * * *', type: 'summary', format: 'json', range: '1h', max_age: '3h' }],
    });
    const clock = new FakeClock(T0 + 30 * MIN);
    const scheduler = new ReportScheduler({ config, notifiers: {}, source: opened.source, clock, logger: quiet });
    scheduler.start();
    for (let i = 0; i < 6; i++) await advance(clock, scheduler, i === 0 ? 30 * MIN : HOUR);
    // Runs at 01:00 … 06:00; at 06:00 those older than 03:00 are gone.
    expect(readdirSync(join(dir, 'h')).sort()).toEqual([
      'h-20261101T030000Z.json',
      'h-20261101T040000Z.json',
      'h-20261101T050000Z.json',
      'h-20261101T060000Z.json',
    ]);
    await scheduler.stop();
  }, 30_000);

  it('records a failed write (the folder cannot be made) as the last error and retries after the backoff', async () => {
    const dir = folder();
    const blocked = join(dir, 'blocked');
    writeFileSync(blocked, 'a file where the folder should be');
    const config = reportsSchema.parse({
      folder: dir,
      schedules: [{ name: 's', folder: blocked, cron: '0 12 * * *', format: 'html', range: '1d', retries: 2, retry_backoff: '5m' }],
    });
    const clock = new FakeClock(T0);
    const scheduler = new ReportScheduler({ config, notifiers: {}, source: opened.source, clock, logger: quiet });
    scheduler.start();
    await advance(clock, scheduler, 12 * HOUR);
    let s = scheduler.list()[0]!;
    expect(s.lastError).toMatch(/^writing .*blocked\/s-20261101T120000Z\.html: (EEXIST|ENOTDIR)/);
    expect(s).toMatchObject({ failedTries: 1, nextRunAt: T0 + 12 * HOUR + 5 * MIN, lastSuccessAt: null });
    // Still failing: the backoff doubles.
    await advance(clock, scheduler, 5 * MIN);
    s = scheduler.list()[0]!;
    expect(s).toMatchObject({ failedTries: 2, nextRunAt: T0 + 12 * HOUR + 15 * MIN });
    rmSync(blocked);
    await advance(clock, scheduler, 10 * MIN);
    s = scheduler.list()[0]!;
    expect(s).toMatchObject({ lastError: null, failedTries: 0, lastFile: 's-20261101T120000Z.html', nextRunAt: T0 + DAY + 12 * HOUR });
    // The retry built the run of 12:00 (same range, same name).
    expect(existsSync(join(blocked, 's-20261101T120000Z.html'))).toBe(true);
    await scheduler.stop();
  }, 30_000);

  it('gives up after `retries` and waits for the next run', async () => {
    const dir = folder();
    const blocked = join(dir, 'blocked');
    writeFileSync(blocked, 'x');
    const config = reportsSchema.parse({
      folder: dir,
      schedules: [{ name: 's', folder: blocked, cron: '0 12 * * *', format: 'json', range: '1d', retries: 1, retry_backoff: '1m' }],
    });
    const clock = new FakeClock(T0);
    const scheduler = new ReportScheduler({ config, notifiers: {}, source: opened.source, clock, logger: quiet });
    scheduler.start();
    await advance(clock, scheduler, 12 * HOUR);
    await advance(clock, scheduler, MIN);
    expect(scheduler.list()[0]).toMatchObject({ failedTries: 2, nextRunAt: T0 + DAY + 12 * HOUR });
    expect(scheduler.list()[0]!.lastError).toMatch(/^writing /);
    await scheduler.stop();
  }, 30_000);

  it('sends to a webhook that was down once it is up, once, with a link; e-mails the file as an attachment', async () => {
    const dir = folder();
    const port = await freePort();
    const mails: string[] = [];
    const smtp = new SMTPServer({
      secure: false,
      disabledCommands: ['STARTTLS'],
      authOptional: true,
      logger: false,
      onData(stream, _session, cb) {
        let raw = '';
        stream.on('data', (c: Buffer) => (raw += c.toString('utf8')));
        stream.on('end', () => {
          mails.push(raw);
          cb();
        });
      },
    });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
    const smtpPort = (smtp.server.address() as AddressInfo).port;
    const alerts = alertsSchema.parse({
      notifiers: {
        hook: { kind: 'webhook', url: `http://127.0.0.1:${port}/reports`, secret: 'a-secret-of-16-chars' },
        mail: { kind: 'email', host: '127.0.0.1', port: smtpPort, from: 'hm@example.test', to: ['ops@example.test'] },
        logs: { kind: 'log' },
      },
    });
    const config = reportsSchema.parse({
      folder: dir,
      link_base: 'http://healthmesh.example:7400/',
      schedules: [{ name: 'weekly', cron: '0 8 * * MON', type: 'summary', format: 'xlsx', range: '7d', notify: ['mail', 'hook'], retry_backoff: '2m' }],
    });
    const bad = reportsSchema.parse({ schedules: [{ name: 'x', cron: '0 8 * * *', notify: ['logs'] }] });
    const clock = new FakeClock(T0); // a Sunday
    expect(() => new ReportScheduler({ config: bad, notifiers: alerts.notifiers, source: opened.source, clock, logger: quiet })).toThrow(
      'reports.schedules[0].notify[0]: notifier "logs" is log; reports go by email or webhook',
    );
    const scheduler = new ReportScheduler({ config, notifiers: alerts.notifiers, source: opened.source, clock, logger: quiet });
    scheduler.start();
    const servers: Server[] = [];
    try {
      await advance(clock, scheduler, 8 * HOUR + DAY); // Monday 08:00
      let s = scheduler.list()[0]!;
      expect(s.lastError).toMatch(/^notify hook: POST http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED$/);
      expect(mails.length).toBe(1); // the e-mail went; only the webhook failed
      expect(s.lastFile).toBe('weekly-20261102T080000Z.xlsx');
      const notices: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
      const receiver = createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c));
        req.on('end', () => {
          notices.push({ headers: req.headers, body });
          res.end('ok');
        });
      });
      servers.push(receiver);
      await new Promise<void>((r) => receiver.listen(port, '127.0.0.1', r));
      await advance(clock, scheduler, 2 * MIN);
      s = scheduler.list()[0]!;
      expect(s).toMatchObject({ lastError: null, failedTries: 0 });
      expect(mails.length).toBe(1); // not sent again
      expect(notices.length).toBe(1);
      const notice = JSON.parse(notices[0]!.body);
      expect(notice).toMatchObject({
        version: 1,
        event: 'report',
        schedule: 'weekly',
        type: 'summary',
        file: 'weekly-20261102T080000Z.xlsx',
        link: 'http://healthmesh.example:7400/api/v1/reports/files/weekly/weekly-20261102T080000Z.xlsx',
        from: '2026-10-26T08:00:00.000Z',
        to: '2026-11-02T08:00:00.000Z',
      });
      expect(notices[0]!.headers['idempotency-key']).toBe(`report-weekly-${T0 + DAY + 8 * HOUR}`);
      expect(notices[0]!.headers['x-healthmesh-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
      expect(mails[0]).toContain('Subject: [healthmesh] Service health summary (2026-10-26 to 2026-11-02)');
      expect(mails[0]).toMatch(/filename=weekly-20261102T080000Z\.xlsx/);
      expect(mails[0]).toContain('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
      expect(scheduler.filePath('weekly', 'weekly-20261102T080000Z.xlsx')).toBe(join(dir, 'weekly', 'weekly-20261102T080000Z.xlsx'));
      expect(scheduler.filePath('weekly', '../../etc/passwd')).toBeUndefined();
    } finally {
      await scheduler.stop();
      for (const srv of servers) await new Promise((r) => srv.close(r));
      await new Promise<void>((r) => smtp.close(() => r()));
    }
  }, 60_000);

  it('runs one now on request and refuses unknown names', async () => {
    const dir = folder();
    mkdirSync(dir, { recursive: true });
    const config = reportsSchema.parse({ folder: dir, schedules: [{ name: 'now', cron: '0 0 1 1 *', format: 'csv', range: '2d' }] });
    const clock = new FakeClock(T0 + 2 * DAY);
    const scheduler = new ReportScheduler({ config, notifiers: {}, source: opened.source, clock, logger: quiet });
    scheduler.start();
    const s = await scheduler.run('now');
    expect(s).toMatchObject({ lastError: null, lastFile: 'now-20261103T000000Z.zip', files: 1, nextRunAt: Date.UTC(2027, 0, 1) });
    await expect(scheduler.run('nope')).rejects.toThrow('no scheduled report "nope" (schedules: now)');
    await scheduler.stop();
  }, 30_000);
});
