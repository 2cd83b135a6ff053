import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { parseConfig } from '../../src/config/load.js';

function problems(text: string): string[] {
  try {
    parseConfig(text, { file: 'hm.yaml', env: {} });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues.map((i) => `${i.line}:${i.path}: ${i.message}`);
  }
  throw new Error('expected the config to be rejected');
}

const service = 'services:\n  api:\n    instances: [{ address: "127.0.0.1:1" }]\n';

describe('balancer and proxy config', () => {
  it('defaults every balancer field: balancer: {} is a working setup', () => {
    const c = parseConfig(service, { env: {} });
    expect(c.services.api!.balancer).toMatchObject({
      picker: 'wrr',
      panic_threshold: 50,
      breaker: { enabled: true, trip: 'consecutive', consecutive_failures: 5, open_for: 5000 },
      outlier: { consecutive_5xx: 5, max_ejection_percent: 10, base_ejection_time: 30_000, failure_percentage: false },
      slow_start: { window: 0 },
      adaptive_interval: { stretch: 1 },
    });
    expect(c.proxy).toBeUndefined();
  });

  it.each([
    ['    balancer: { picker: fastest }\n', /4:services\.api\.balancer\.picker: .*wrr/],
    ['    balancer: { panic_threshold: 150 }\n', /4:services\.api\.balancer\.panic_threshold: /],
    ['    balancer: { breaker: { open_for: soon } }\n', /4:services\.api\.balancer\.breaker\.open_for: "soon" is not a duration/],
    ['    balancer: { outlier: { consecutive_5xx: 0 } }\n', /4:services\.api\.balancer\.outlier\.consecutive_5xx/],
    ['    balancer: { zone: {} }\n', /4:services\.api\.balancer\.zone\.local/],
  ])('names the field of a bad balancer setting: %j', (extra, expected) => {
    expect(problems(service + extra).join('\n')).toMatch(expected);
  });

  it.each([
    ['proxy:\n  routes: []\n', /proxy\.routes: /],
    ['proxy:\n  routes: [{ service: api }]\n', /5:proxy\.routes\[0\]: give host, path_prefix or both/],
    ['proxy:\n  routes: [{ path_prefix: api, service: api }]\n', /5:proxy\.routes\[0\]\.path_prefix: start with "\/"/],
    ['proxy:\n  routes: [{ path_prefix: /a, service: web }]\n', /5:proxy\.routes\[0\]\.service: no service named "web"/],
    ['proxy:\n  routes: [{ path_prefix: /a, service: api }]\n  retries: { on: [teapot] }\n', /6:proxy\.retries\.on\[0\]/],
  ])('names the field of a bad proxy setting: %j', (extra, expected) => {
    expect(problems(service + extra).join('\n')).toMatch(expected);
  });
});
