import { describe, expect, it } from 'vitest';
import { parseLevels, parseRange, parseStep, parseTime } from '../../src/server/history-params.js';

const NOW = Date.UTC(2024, 4, 1, 12, 0, 0);

describe('history query parameters', () => {
  it.each([
    ['1714564800000', 1714564800000],
    ['2024-05-01', Date.UTC(2024, 4, 1)],
    ['2024-05-01T10:30', Date.UTC(2024, 4, 1, 10, 30)],
    ['2024-05-01T10:30:15.250Z', Date.UTC(2024, 4, 1, 10, 30, 15, 250)],
    ['2024-05-01T10:30:00+02:00', Date.UTC(2024, 4, 1, 8, 30)],
    ['24h', NOW - 86_400_000],
    ['1h30m', NOW - 5_400_000],
  ])('reads %s as %d (no offset: UTC; a duration: back from now)', (text, ms) => expect(parseTime('from', text, NOW)).toBe(ms));

  it.each(['yesterday', '2024-13-01T00:00:00Z', '2024-05-01T25:00', '12.5', '-'])('rejects %j naming the parameter', (text) => {
    expect(() => parseTime('to', text, NOW)).toThrow(new RegExp(`^to: ${JSON.stringify(text).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not a time`));
  });

  it('fills in a range and refuses one that ends before it starts', () => {
    expect(parseRange({}, NOW, 3_600_000)).toEqual({ from: NOW - 3_600_000, to: NOW });
    expect(parseRange({ to: '2024-05-01T11:00Z' }, NOW, 60_000)).toEqual({ from: Date.UTC(2024, 4, 1, 10, 59), to: Date.UTC(2024, 4, 1, 11) });
    expect(() => parseRange({ from: '1h', to: '2h' }, NOW, 0)).toThrow(/^from: .* is not before to/);
  });

  it('reads steps and levels, naming the parameter when they are wrong', () => {
    expect([parseStep(undefined), parseStep('1m'), parseStep('1h')]).toEqual(['minute', 'minute', 'hour']);
    expect(() => parseStep('1d')).toThrow(/^step: "1d" is not one of 1m, 1h/);
    expect(parseLevels('service,check')).toEqual(['check', 'service']);
    expect(() => parseLevels('check,mesh')).toThrow(/^level: "mesh"/);
  });
});
