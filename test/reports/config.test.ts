/** The `reports:` section: defaults, and errors that name the field. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';

const base = 'services:\n  api: { instances: [{ id: a1, address: "127.0.0.1:9" }], checks: [{ kind: tcp }] }\n';

describe('reports config', () => {
  it('fills the defaults of a schedule', () => {
    const c = parseConfig(`${base}reports:\n  schedules:\n    - { name: daily, cron: "0 6 * * *" }\n`);
    expect(c.reports).toEqual({
      folder: 'reports',
      schedules: [
        {
          name: 'daily',
          cron: '0 6 * * *',
          timezone: 'UTC',
          type: 'summary',
          format: 'html',
          range: 7 * 86_400_000,
          services: [],
          tags: [],
          zones: [],
          granularity: 'auto',
          write: true,
          notify: [],
          retries: 3,
          retry_backoff: 60_000,
        },
      ],
    });
  });

  it.each([
    ['{ name: d, cron: "every day" }', /reports\.schedules\[0\]\.cron.*not a cron expression/],
    ['{ name: d, cron: "0 6 * * *", timezone: Mars/Base }', /reports\.schedules\[0\]\.timezone.*not an IANA time zone/],
    ['{ name: d, cron: "0 6 * * *", type: weekly }', /reports\.schedules\[0\]\.type/],
    ['{ name: d, cron: "0 6 * * *", format: pdf }', /reports\.schedules\[0\]\.format/],
    ['{ name: d, cron: "0 6 * * *", keep: 0 }', /reports\.schedules\[0\]\.keep/],
    ['{ name: d, cron: "0 6 * * *", max_age: "3 parsecs" }', /reports\.schedules\[0\]\.max_age/],
    ['{ name: d, cron: "0 6 * * *", write: false }', /reports\.schedules\[0\]\.write.*needs notify/],
  ])('refuses %s naming the field', (schedule, message) => {
    expect(() => parseConfig(`${base}reports:\n  schedules:\n    - ${schedule}\n`)).toThrow(message);
  });

  it('refuses two schedules of one name', () => {
    expect(() => parseConfig(`${base}reports:\n  schedules:\n    - { name: d, cron: "0 6 * * *" }\n    - { name: d, cron: "0 7 * * *" }\n`)).toThrow(
      /reports\.schedules\[1\]\.name.*"d" is used twice/,
    );
  });
});
