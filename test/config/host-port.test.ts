import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { parseConfig } from '../../src/config/load.js';

/** Instance addresses are host:port, checked with the YAML line (issue 14, "Bad input"). */

/** The config's problems as `line:path: message`, or [] when it loads. */
function problems(text: string): string[] {
  try {
    parseConfig(text, { file: 'hm.yaml', env: {} });
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues.map((i) => `${i.line}:${i.path}: ${i.message}`);
  }
}

/** A config with one instance at `address`, on line 4. */
const withAddress = (address: string) => `services:
  api:
    instances:
      - { id: a1, address: ${JSON.stringify(address)} }
    checks: [{ kind: tcp }]
`;

describe('instance address in the config', () => {
  it('accepts host:port with a name, an IPv4 or a bracketed IPv6 host and a port 1–65535, and names the line and the fix of anything else', () => {
    const table: Array<[string, string | null]> = [
      ['10.0.0.5:8080', null],
      ['api.internal:1', null],
      ['node_3.svc-a.local:65535', null],
      ['[::1]:9000', null],
      ['[2001:db8::5]:443', null],
      ['nohostport', '"nohostport" has no port: write host:port, e.g. nohostport:8080'],
      [':8080', '":8080" has no host: write host:port, e.g. 10.0.0.5:8080'],
      ['host:0', '"host:0": the port 0 is out of range (1–65535)'],
      ['host:65536', '"host:65536": the port 65536 is out of range (1–65535)'],
      ['host:http', '"host:http": the port "http" is not a number from 1 to 65535'],
      ['host:', '"host:": the port "" is not a number from 1 to 65535'],
      ['::1:9000', '"::1:9000": an IPv6 address goes in brackets before the port, e.g. [::1]:8080'],
      ['[::1]', '"[::1]" has no port: write [::1]:port, e.g. [::1]:8080'],
      ['[::1:9000', '"[::1:9000" has no closing "]" (write an IPv6 address as [::1]:8080)'],
      ['[10.0.0.1]:80', '"[10.0.0.1]:80": "10.0.0.1" in brackets is not an IPv6 address'],
      ['http://10.0.0.5:8080', '"http://10.0.0.5:8080" is a URL: write host:port without a scheme or path, e.g. 10.0.0.5:8080'],
      ['my host:80', '"my host:80": the host "my host" may hold only letters, digits, ".", "-" and "_" (a name or an IPv4 address; IPv6 goes in brackets)'],
    ];
    const found = table.map(([address]) => [address, problems(withAddress(address))[0] ?? null]);
    expect(found).toEqual(table.map(([address, message]) => [address, message && `4:services.api.instances[0].address: ${message}`]));
  });

  it('reports a bad address among other problems, each with its own line', () => {
    expect(
      problems(`services:
  api:
    instances:
      - { id: a1, address: "10.0.0.1:80" }
      - { id: a2, address: "10.0.0.2" }
      - id: a3
        address: "[::1]:0"
`),
    ).toEqual([
      '5:services.api.instances[1].address: "10.0.0.2" has no port: write host:port, e.g. 10.0.0.2:8080',
      '7:services.api.instances[2].address: "[::1]:0": the port 0 is out of range (1–65535)',
    ]);
  });
});
