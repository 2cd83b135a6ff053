import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { fastLoad } from '../../src/config/fast-load.js';
import { envValuesOf, parseConfig, parseConfigWithLines } from '../../src/config/load.js';

const EXAMPLES = join(import.meta.dirname, '../../examples');
const env = {
  ALERT_WEBHOOK_SECRET: 'webhook-secret-0123456789',
  SLACK_WEBHOOK_URL: 'https://hooks.example.test/T0/B0/secret',
  SMTP_PASSWORD: 'smtp-password-0123',
  HEALTHMESH_SELF: '127.0.0.1:7401',
};

const two = `
defaults: { interval: 5s }
services:
  api:
    instances: [{ id: a1, address: "127.0.0.1:1" }, { id: a2, address: "127.0.0.1:2" }]
    checks: [{ kind: tcp }]
  web:
    depends_on: [api]
    instances: [{ id: w1, address: "127.0.0.1:3", metadata: { owner: "\${OWNER}" } }]
    checks: [{ kind: http, path: /health, headers: { "\${HEADER}": x } }]
`;
const twoEnv = { OWNER: 'team-a', HEADER: 'x-probe' };

/** The error a config gives, as text (the lines of both paths must be the same). */
function failure(parse: () => unknown): string {
  try {
    parse();
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('the quick config path', () => {
  it('gives what the line-keeping path gives, for every bundled example', () => {
    const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const file of files) {
      const text = readFileSync(join(EXAMPLES, file), 'utf8');
      const quick = fastLoad(text, env);
      expect(quick, file).not.toBeNull();
      expect(quick!.config, file).toEqual(parseConfigWithLines(text, { env }));
    }
  });

  it('interpolates values and keys, and keeps the values taken as secrets', () => {
    const config = parseConfig(two, { env: twoEnv });
    expect(fastLoad(two, twoEnv)?.config).toEqual(parseConfigWithLines(two, { env: twoEnv }));
    expect(config.services.web!.instances[0]!.metadata).toEqual({ owner: 'team-a' });
    const check = config.services.web!.checks[0]!;
    expect(check.kind === 'http' && check.headers).toEqual({ 'x-probe': 'x' });
    expect(envValuesOf(config)).toEqual(['team-a', 'x-probe']);
  });

  it('leaves to the slow path what it would report badly, which then reports it by line', () => {
    const cases = [
      ['an unset variable', two, { HEADER: 'h' }],
      ['a duplicate key', `${two}  api:\n    instances: []\n`, twoEnv],
      ['a schema problem', two.replace('interval: 5s', 'interval: soon'), twoEnv],
      ['a cross-check problem', two.replace('depends_on: [api]', 'depends_on: [nope]'), twoEnv],
      ['a check named twice', two.replace('checks: [{ kind: tcp }]', 'checks: [{ kind: tcp }, { kind: tcp }]'), twoEnv],
      ['a YAML error', two.replace('[{ kind: tcp }]', '[{ kind: tcp }'), twoEnv],
    ] as const;
    for (const [what, text, vars] of cases) {
      expect(fastLoad(text, vars), what).toBeNull();
      const message = failure(() => parseConfig(text, { env: vars }));
      expect(message, what).toBe(failure(() => parseConfigWithLines(text, { env: vars })));
      expect(message, what).toMatch(/config:\d+:\d+ /);
    }
    expect(failure(() => parseConfig(cases[4][1], { env: twoEnv }))).toMatch(
      /services.api.checks\[1\].kind: check name "tcp" is used twice for instance "a1"[\s\S]*instance "a2"/,
    );
  });

  it('leaves anchors and aliases to the slow path, which still accepts them', () => {
    const text = `
services:
  api:
    instances: [{ id: a1, address: "127.0.0.1:1" }]
    checks: &checks [{ kind: tcp }]
  web:
    instances: [{ id: w1, address: "127.0.0.1:2" }]
    checks: *checks
`;
    expect(fastLoad(text, {})).toBeNull();
    const config = parseConfig(text, { env: {} });
    expect(config.services.web!.checks).toEqual(config.services.api!.checks);
  });

  it('leaves a "__proto__" key to the slow path instead of setting a prototype', () => {
    const text = `${two}  evil:\n    __proto__: { polluted: true }\n`;
    expect(fastLoad(text, twoEnv)).toBeNull();
    expect(() => parseConfig(text, { env: twoEnv })).toThrow(ConfigError);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('a reload reusing unchanged services', () => {
  it('keeps the very object of each service whose text did not change, and validates the others again', () => {
    const first = parseConfig(two, { env: twoEnv });
    const next = parseConfig(two.replace('"127.0.0.1:3"', '"127.0.0.1:4"'), { env: twoEnv, previous: first });
    expect(next.services.api).toBe(first.services.api);
    expect(next.services.web).not.toBe(first.services.web);
    expect(next.services.web!.instances[0]!.address).toBe('127.0.0.1:4');
    expect(next).toEqual(parseConfigWithLines(two.replace('"127.0.0.1:3"', '"127.0.0.1:4"'), { env: twoEnv }));
  });

  it('compares the text after interpolation: a changed variable changes its service', () => {
    const first = parseConfig(two, { env: twoEnv });
    const next = parseConfig(two, { env: { ...twoEnv, OWNER: 'team-b' }, previous: first });
    expect(next.services.api).toBe(first.services.api);
    expect(next.services.web!.instances[0]!.metadata.owner).toBe('team-b');
  });

  it('reuses services of a config loaded the slow way', () => {
    const slow = parseConfigWithLines(two, { env: twoEnv });
    expect(parseConfig(two, { env: twoEnv, previous: slow }).services.api).toBe(slow.services.api);
  });

  it('reuses nothing when JSON text would hide a difference (.inf prints as null)', () => {
    const withNull = two.replace('path: /health,', 'path: /health, expect_body: { json: [{ path: $.up, equals: ~ }] },');
    const first = parseConfig(withNull, { env: twoEnv });
    const check = first.services.web!.checks[0]!;
    expect(check.kind === 'http' && check.expect_body?.json?.[0]?.equals).toBeNull();
    // Same JSON text, but .inf is no valid value: the service must be checked again, and fail.
    expect(() => parseConfig(withNull.replace('equals: ~', 'equals: .inf'), { env: twoEnv, previous: first })).toThrow(/equals/);
  });
});
