import { describe, expect, it } from 'vitest';
import { parsePeriod } from '../../src/server/web-badges.js';
import { renderBadge, textWidth } from '../../src/server/web-badge-svg.js';

describe('badge SVG', () => {
  it('sizes both halves to their text and names itself for screen readers', () => {
    const svg = renderBadge('api', 'healthy', 'green');
    const width = Number(/^<svg [^>]*width="(\d+)"/.exec(svg)![1]);
    expect(width).toBe(Math.round(textWidth('api') + 12) + Math.round(textWidth('healthy') + 12));
    expect(svg).toContain('role="img" aria-label="api: healthy"');
    expect(svg).toContain('<title>api: healthy</title>');
    expect(textWidth('mmmm')).toBeGreaterThan(textWidth('iiii'));
  });

  it('escapes what it is given', () => {
    const svg = renderBadge('a<b', 'x&"y', 'red');
    expect(svg).not.toContain('a<b');
    expect(svg).toContain('a&lt;b');
    expect(svg).toContain('x&amp;&quot;y');
  });

  it('reads periods as hours or days up to 90 days', () => {
    expect(parsePeriod('30d')).toBe(30 * 86_400_000);
    expect(parsePeriod('24h')).toBe(86_400_000);
    expect(parsePeriod('90d')).toBe(90 * 86_400_000);
    expect(parsePeriod('91d')).toBeUndefined();
    expect(parsePeriod('0d')).toBeUndefined();
    expect(parsePeriod('1w')).toBeUndefined();
    expect(parsePeriod('d')).toBeUndefined();
  });
});
