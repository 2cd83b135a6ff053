import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { formatLogLine } from '../../src/core/log-line.js';
import { createLogger } from '../../src/core/logger.js';

const at = new Date(2026, 0, 1, 12, 1, 55).getTime();

describe('one log line for a terminal', () => {
  it('shows a transition as time and message, its fields only repeating the message are left out', () => {
    const log = {
      level: 40,
      time: at,
      check: 'legacy-billing/billing-1/tcp',
      service: 'legacy-billing',
      from: 'UNKNOWN',
      to: 'UNHEALTHY',
      reason: 'connect_refused',
      output: 'ECONNREFUSED 127.0.0.1:1',
      msg: 'legacy-billing/billing-1/tcp UNKNOWN → UNHEALTHY connect_refused (ECONNREFUSED 127.0.0.1:1)',
    };
    expect(formatLogLine(log, false)).toBe('12:01:55 WARN legacy-billing/billing-1/tcp UNKNOWN → UNHEALTHY connect_refused (ECONNREFUSED 127.0.0.1:1)');
  });

  it('keeps fields the message does not say, quoting strings with spaces, JSON for objects', () => {
    const log = { level: 30, time: at, msg: 'flush failed', err: 'disk I/O error', rows: 12, figures: { a: 1 }, ok: true };
    expect(formatLogLine(log, false)).toBe('12:01:55 flush failed err="disk I/O error" rows=12 figures={"a":1} ok=true');
  });

  it('shows an error object by its message', () => {
    expect(formatLogLine({ level: 50, time: at, msg: 'stop failed', err: { type: 'Error', message: 'boom', stack: 'Error: boom\n at x' } }, false)).toBe(
      '12:01:55 ERROR stop failed err="boom"',
    );
  });

  it('writes exactly one line per record through the pretty logger', () => {
    let text = '';
    const sink = new Writable({
      write: (chunk, _e, done) => {
        text += chunk.toString();
        done();
      },
    });
    const logger = createLogger({ level: 'info', format: 'pretty' }, sink);
    logger.info({ check: 'a/b/c', from: 'HEALTHY', to: 'DEGRADED' }, 'a/b/c HEALTHY → DEGRADED slow');
    logger.warn({ err: 'x y' }, 'something failed');
    const lines = text.split('\n').filter(Boolean);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d a\/b\/c HEALTHY → DEGRADED slow$/);
    expect(lines[1]).toMatch(/^\d\d:\d\d:\d\d WARN something failed err="x y"$/);
  });
});
