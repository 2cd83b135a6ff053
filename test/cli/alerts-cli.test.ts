import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/spawn.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

describe('healthmesh alerts test', () => {
  it('sends a sample through each notifier of the rule and reports each outcome, exit 1 when one fails', async () => {
    let bodies = 0;
    const receiver = createServer((req, res) => {
      bodies++;
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    servers.push(receiver);
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const port = (receiver.address() as AddressInfo).port;
    const dir = mkdtempSync(join(tmpdir(), 'hm-alerts-cli-'));
    const file = join(dir, 'hm.yaml');
    writeFileSync(
      file,
      `services:
  db: { instances: [{ id: d1, address: "127.0.0.1:9" }], checks: [{ kind: tcp }] }
alerts:
  notifiers:
    up: { kind: webhook, url: "http://127.0.0.1:${port}/hook" }
    down: { kind: webhook, url: "http://127.0.0.1:1/hook", timeout: 2s }
  rules:
    - { name: db-down, when: { kind: status, is: UNHEALTHY }, notify: [up, down] }
`,
    );
    const run = await runCli(['alerts', 'test', '--config', file, '--rule', 'db-down'], { timeoutMs: 30_000 });
    expect(bodies).toBe(1);
    expect(run.stdout + run.stderr).toMatch(/up\b.*(ok|delivered)/i);
    expect(run.stdout + run.stderr).toMatch(/down\b.*(fail|refused|ECONNREFUSED)/i);
    expect(run.code).toBe(1);
    const missing = await runCli(['alerts', 'test', '--config', file, '--rule', 'nope'], { timeoutMs: 30_000 });
    expect(missing.code).toBe(2);
  }, 60_000);
});
