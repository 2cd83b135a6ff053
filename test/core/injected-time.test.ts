import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** Files allowed to read the wall clock and the global random source: they are the injected ones. */
const OWNERS = new Set(['core/clock.ts', 'core/random.ts']);
const WALL_CLOCK = /\bDate\.now\(|new Date\(\)|Math\.random\(|performance\.now\(/;

describe('time and randomness are injected', () => {
  it('no file in src/ reads Date.now(), new Date(), performance.now() or Math.random() but the clock and random modules', () => {
    const root = fileURLToPath(new URL('../../src/', import.meta.url));
    const offenders: string[] = [];
    for (const file of readdirSync(root, { recursive: true, encoding: 'utf8' })) {
      if (!file.endsWith('.ts') || OWNERS.has(file)) continue;
      readFileSync(join(root, file), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          const code = line.replace(/\/\/.*$/, '').trim();
          if (code.startsWith('*') || code.startsWith('/*')) return; // a comment may name them
          if (WALL_CLOCK.test(code)) offenders.push(`src/${file}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(offenders).toEqual([]);
  });
});
