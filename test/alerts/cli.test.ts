import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { alertsTest } from '../../src/cli/alerts-command.js';
import { useCleanups } from '../helpers/cleanups.js';
import { startReceiver } from './receivers.js';

const { track } = useCleanups();
const dir = mkdtempSync(join(tmpdir(), 'healthmesh-alerts-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configFile(hookUrl: string, deadUrl: string): string {
  const path = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    path,
    `services:
  db: { instances: [{ address: 127.0.0.1:5432 }], checks: [{ kind: tcp }] }
alerts:
  notifiers:
    good: { kind: webhook, url: "${hookUrl}", secret: "\${HOOK_SECRET}" }
    down: { kind: webhook, url: "${deadUrl}", timeout: 2s }
    log: { kind: log }
  rules:
    - { name: db-down, match: { service: db }, when: { kind: status }, level: critical, notify: [good, down, log] }
    - { name: quiet, when: { kind: status }, notify: [good] }
`,
  );
  return path;
}

describe('healthmesh alerts test', () => {
  it('sends a sample notification through each notifier of the rule and reports each outcome', async () => {
    const hook = track(await startReceiver());
    const dead = await startReceiver();
    await dead.stop();
    const lines: string[] = [];
    const code = await alertsTest({
      config: configFile(`${hook.url}/in`, `${dead.url}/in`),
      rule: 'db-down',
      env: { HOOK_SECRET: 'hook-secret-0123456789' },
      out: (l) => lines.push(l),
    });
    expect(code).toBe(1);
    expect(lines[0]).toBe('sending a sample notification of rule "db-down" to 3 notifiers');
    expect(lines.find((l) => l.startsWith('ok     good (webhook): HTTP 200'))).toBeDefined();
    expect(lines.find((l) => l.startsWith('FAILED down (webhook): ECONNREFUSED'))).toBeDefined();
    expect(lines.find((l) => l.startsWith('ok     log (log)'))).toBeDefined();
    expect(lines.join('\n')).not.toContain('hook-secret-0123456789');
    expect(hook.requests).toHaveLength(1);
    const body = JSON.parse(hook.requests[0]!.body);
    expect(body.items[0]).toMatchObject({ rule: 'db-down', level: 'critical', labels: { service: 'db', test: 'true' } });
    expect(hook.requests[0]!.headers['x-healthmesh-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
  }, 20_000);

  it('exits 0 when every notifier delivered, 2 for an unknown rule, 1 for a bad config', async () => {
    const hook = track(await startReceiver());
    const path = configFile(`${hook.url}/in`, 'http://127.0.0.1:9/x');
    const lines: string[] = [];
    expect(await alertsTest({ config: path, rule: 'quiet', env: { HOOK_SECRET: 'hook-secret-0123456789' }, out: (l) => lines.push(l) })).toBe(0);
    expect(await alertsTest({ config: path, rule: 'nope', env: { HOOK_SECRET: 'hook-secret-0123456789' }, out: (l) => lines.push(l) })).toBe(2);
    expect(lines.at(-1)).toContain('no rule named "nope" (rules: db-down, quiet)');
    expect(await alertsTest({ config: path, rule: 'quiet', env: {}, out: (l) => lines.push(l) })).toBe(1);
    expect(lines.at(-1)).toContain('HOOK_SECRET is not set');
  }, 20_000);
});
