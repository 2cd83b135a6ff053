import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { configSecrets, settingSecrets } from '../../src/security/secrets.js';

const yaml = (token: string) => `
alerts:
  notifiers:
    ops: { kind: webhook, url: "https://hooks.example.test/notify-secret-path" }
  rules:
    - { name: down, scope: service, when: { kind: status, is: UNHEALTHY }, notify: [ops] }
services:
  api:
    instances: [{ id: a1, address: "127.0.0.1:1", metadata: { secret_api_key: instance-secret-value } }]
    checks: [{ kind: http, headers: { Authorization: "Bearer ${token}" } }]
  web:
    instances: [{ id: w1, address: "127.0.0.1:2" }]
    checks: [{ kind: tcp }]
`;

describe('configSecrets', () => {
  it('finds what settingSecrets finds, and still finds a reused service’s secrets after a reload', () => {
    const first = parseConfig(yaml('first-token-0123456789'), { env: {} });
    const expected = new Set(settingSecrets(first));
    expect(expected).toContain('Bearer first-token-0123456789');
    expect(expected).toContain('instance-secret-value');
    expect(expected).toContain('https://hooks.example.test/notify-secret-path');
    expect(new Set(configSecrets(first))).toEqual(expected);

    // web is reused as the same object; api changed: its new header is found, the reused ones still are.
    const next = parseConfig(yaml('second-token-0123456789'), { env: {}, previous: first });
    expect(next.services.web).toBe(first.services.web);
    expect(new Set(configSecrets(next))).toEqual(new Set(settingSecrets(next)));
    expect(configSecrets(next)).toContain('Bearer second-token-0123456789');
  });
});
