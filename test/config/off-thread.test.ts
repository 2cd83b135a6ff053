import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { envValuesOf, loadConfigFile } from '../../src/config/load.js';
import { ConfigThread, loadConfigOffThread } from '../../src/config/off-thread.js';
import { waitFor } from '../helpers/wait.js';

const EXAMPLES = join(import.meta.dirname, '../../examples');
const dir = mkdtempSync(join(tmpdir(), 'hm-off-thread-'));
const env = { ALERT_WEBHOOK_SECRET: 'webhook-secret-0123456789', SLACK_WEBHOOK_URL: 'https://hooks.example.test/T0/B0/x', SMTP_PASSWORD: 'smtp-password-0123' };

const two = (address: string) => `
services:
  api:
    instances: [{ id: a1, address: "127.0.0.1:1", metadata: { owner: "\${OWNER}" } }]
    checks: [{ kind: tcp }]
  web:
    depends_on: [api]
    instances: [{ id: w1, address: "${address}" }]
    checks: [{ kind: http, path: /health }]
`;

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('loading a config on a thread of its own', () => {
  it('gives the config the main thread would, for every bundled example, with its environment values', async () => {
    for (const name of readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'))) {
      const path = file(name, readFileSync(join(EXAMPLES, name), 'utf8'));
      const here = await loadConfigFile(path, env);
      const there = await loadConfigOffThread(path, env);
      expect(there, name).toEqual(here);
      expect(envValuesOf(there), name).toEqual(envValuesOf(here));
    }
  });

  it('sends back only changed services: the others are the running config’s own objects', async () => {
    const vars = { OWNER: 'team-a' };
    const running = await loadConfigFile(file('two.yaml', two('127.0.0.1:3')), vars);
    const next = await loadConfigOffThread(file('two.yaml', two('127.0.0.1:4')), vars, running);
    expect(next.services.api).toBe(running.services.api);
    expect(next.services.web).not.toBe(running.services.web);
    expect(next).toEqual(await loadConfigFile(join(dir, 'two.yaml'), vars));
    expect(Object.keys(next.services)).toEqual(['api', 'web']);

    // And the config it answered is one a later reload can compare with.
    const again = await loadConfigOffThread(join(dir, 'two.yaml'), { OWNER: 'team-b' }, next);
    expect(again.services.web).toBe(next.services.web);
    expect(again.services.api!.instances[0]!.metadata.owner).toBe('team-b');
    expect(envValuesOf(again)).toEqual(['team-b']);
  });

  it('throws the ConfigError the main thread would, every issue with its line', async () => {
    const path = file('bad.yaml', two('nowhere').replace('depends_on: [api]', 'depends_on: [nope]'));
    const here = await loadConfigFile(path, { OWNER: 'x' }).catch((e: unknown) => e);
    const there = await loadConfigOffThread(path, { OWNER: 'x' }).catch((e: unknown) => e);
    expect(here).toBeInstanceOf(ConfigError);
    expect(there).toBeInstanceOf(ConfigError);
    expect((there as ConfigError).message).toBe((here as ConfigError).message);
    expect((there as ConfigError).issues).toEqual((here as ConfigError).issues);
    expect((there as ConfigError).message).toMatch(/bad.yaml:\d+:\d+ services.web.instances\[0\].address/);
    await expect(loadConfigOffThread(join(dir, 'missing.yaml'), {})).rejects.toThrow(/cannot read file \(ENOENT\)/);
  });

  it('cross-checks the assembled config: a change that breaks a reference to an unchanged service is refused with its line', async () => {
    const vars = { OWNER: 'team-a' };
    const running = await loadConfigFile(file('refs.yaml', two('127.0.0.1:3')), vars);
    const broken = file('refs.yaml', two('127.0.0.1:3').replace('depends_on: [api]', 'depends_on: [api, web]'));
    const err = await loadConfigOffThread(broken, vars, running).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(/refs.yaml:\d+:\d+ services.web.depends_on\[1\]: "web" depends on "web" already/);
  });
});

describe('the config thread', () => {
  const request = (path: string) => ({ path, env: { OWNER: 'x' }, fingerprints: null });

  it('ends after its answer unless kept', async () => {
    const thread = new ConfigThread(false);
    const answer = await thread.ask(request(file('once.yaml', two('127.0.0.1:3'))));
    expect(answer.ok).toBe(true);
    await waitFor(() => thread.threadId === null);
  });

  it('kept warm, answers every request on the same thread, each with its own answer', async () => {
    const thread = new ConfigThread(true);
    thread.warm();
    const id = thread.threadId;
    expect(id).not.toBeNull();
    const [a, b] = await Promise.all([
      loadConfigOffThread(file('a.yaml', two('127.0.0.1:3')), { OWNER: 'a' }, undefined, thread),
      loadConfigOffThread(file('b.yaml', two('127.0.0.1:4')), { OWNER: 'b' }, undefined, thread),
    ]);
    expect(a.services.web!.instances[0]!.address).toBe('127.0.0.1:3');
    expect(b.services.web!.instances[0]!.address).toBe('127.0.0.1:4');
    expect(b.services.api!.instances[0]!.metadata.owner).toBe('b');
    expect(thread.threadId).toBe(id);
    thread.setKeep(false);
    await waitFor(() => thread.threadId === null);
  });

  it('fails the requests in flight when the thread ends, and starts a new one for the next', async () => {
    const thread = new ConfigThread(true);
    const path = file('c.yaml', two('127.0.0.1:3'));
    const pending = thread.ask(request(path));
    await thread.close();
    await expect(pending).rejects.toThrow(/config thread ended/);
    expect((await thread.ask(request(path))).ok).toBe(true);
    await thread.close();
  });
});
