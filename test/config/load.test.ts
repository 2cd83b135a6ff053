import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { parseConfig } from '../../src/config/load.js';
import { parseDuration } from '../../src/config/duration.js';
import { CHECK_KINDS } from '../../src/config/schema.js';
import { checksFromConfig } from '../../src/registry/from-config.js';

function problems(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(text, { file: 'hm.yaml', env });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues.map((i) => `${i.line}:${i.path}: ${i.message}`);
  }
  throw new Error('expected the config to be rejected');
}

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['10s', 10_000],
    ['1m', 60_000],
    ['1m30s', 90_000],
    ['1.5s', 1500],
    ['2h', 7_200_000],
    [250, 250],
    ['250', 250],
  ])('reads %s as %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['5 parsecs', '', 's', '-1s', '10 s', '1y'])('rejects %j', (text) => expect(parseDuration(text)).toBeUndefined());
});

describe('parseConfig', () => {
  const valid = `
defaults:
  interval: 5s
services:
  api:
    instances:
      - id: a1
        address: 127.0.0.1:8080
      - address: 127.0.0.1:8081
    checks:
      - kind: http
        path: /health
        interval: 2s
      - kind: tcp
        name: port
`;

  it('applies defaults and copies service checks to every instance', () => {
    const specs = checksFromConfig(parseConfig(valid, { env: {} }));
    expect(specs.map((s) => s.id)).toEqual(['api/a1/http', 'api/a1/port', 'api/127.0.0.1:8081/http', 'api/127.0.0.1:8081/port']);
    expect(specs[0]).toMatchObject({ intervalMs: 2000, timeoutMs: 2000, rise: 2, fall: 3, retries: 0, address: '127.0.0.1:8080' });
    expect(specs[1]).toMatchObject({ intervalMs: 5000, unhealthyIntervalMs: 5000, edgeIntervalMs: 5000 });
  });

  it('reports every problem at once with YAML path, line, value found and what is allowed', () => {
    const found = problems(`defaults:
  interval: 5 parsecs
  rise: 0
services:
  api:
    instances:
      - address: 127.0.0.1:8080
        weigth: 3
    checks:
      - kind: http
        path: health
        expect_status: [200, "abc"]
      - kind: carrier-pigeon
      - kind: tcp
        port: 99999
`);
    expect(found).toEqual([
      '2:defaults.interval: "5 parsecs" is not a duration (use e.g. 500ms, 10s, 1m)',
      '3:defaults.rise: Too small: expected number to be >=1 (found: 0)',
      expect.stringMatching(/^8:services\.api\.instances\[0\]\.weigth: unknown field/),
      '11:services.api.checks[0].path: Invalid string: must start with "/" (found: "health")',
      '12:services.api.checks[0].expect_status[1]: use a code (200), a class ("2xx") or a range ("200-299") (found: "abc")',
      // The allowed list is every kind of config/schema.ts, so adding a kind does not touch this test.
      `13:services.api.checks[1].kind: unknown or missing check kind (allowed: ${CHECK_KINDS.join(', ')}) (found: "carrier-pigeon")`,
      '15:services.api.checks[2].port: Too big: expected number to be <=65535 (found: 99999)',
    ]);
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: the text shows the ${VAR} syntax itself
  it('interpolates ${VAR} and ${VAR:-default}, and names unset variables', () => {
    const text = `services:
  api:
    instances:
      - address: \${API_HOST}:\${API_PORT:-9000}
`;
    const config = parseConfig(text, { env: { API_HOST: '10.0.0.1' } });
    expect(config.services.api!.instances[0]!.address).toBe('10.0.0.1:9000');
    expect(problems(text)).toEqual([
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the text shows the ${VAR} syntax itself
      '4:services.api.instances[0].address: environment variable API_HOST is not set (set it, or write ${API_HOST:-default})',
    ]);
  });

  it('reports YAML syntax errors with their line', () => {
    expect(problems('services:\n  api: [unclosed\n')[0]).toMatch(/^\d+:: YAML syntax/);
  });

  it('rejects duplicate instance ids and duplicate check names', () => {
    const found = problems(`services:
  api:
    instances:
      - address: 127.0.0.1:1
      - address: 127.0.0.1:1
    checks:
      - kind: tcp
      - kind: tcp
`);
    expect(found).toContain(
      '5:services.api.instances[1].address: instance id "127.0.0.1:1" is already used by instances[0] (give each instance a distinct id:)',
    );
    expect(found.some((f) => f.startsWith('8:services.api.checks[1].kind: check name "tcp" is used twice'))).toBe(true);
  });

  it('requires services:', () => {
    expect(problems('defaults: {}\n')).toEqual([expect.stringMatching(/services: required/)]);
  });
});

describe('depends_on and check policies', () => {
  it('rejects unknown dependencies, cycles, and k_of_n without a quorum', () => {
    const found = problems(`services:
  a:
    depends_on: [b]
  b:
    depends_on: [a, nope]
    check_policy: k_of_n
`);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^3:services\.a\.depends_on\[0\]: "b" depends on "a" already/),
        expect.stringMatching(/^5:services\.b\.depends_on\[1\]: no service named "nope"/),
        expect.stringMatching(/^6:services\.b\.check_policy: check_policy k_of_n needs check_quorum/),
      ]),
    );
  });
});
