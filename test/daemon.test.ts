import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../src/config/load.js';
import { startDaemon } from '../src/daemon.js';

describe('config reload', () => {
  it('applies a valid config by diff and keeps the old one on a bad config, with the error returned', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hm-reload-'));
    const file = join(dir, 'hm.yaml');
    const write = (body: string) =>
      writeFileSync(file, `server: { listen: "127.0.0.1:0" }\nstorage: { path: "${join(dir, 'hm.db')}" }\ndefaults: { interval: 1h }\nservices:\n${body}`);
    write('  api:\n    instances: [{ id: a1, address: "127.0.0.1:1" }]\n    checks: [{ kind: tcp }]\n');
    const daemon = await startDaemon({ config: await loadConfigFile(file), configPath: file, logger: pino({ level: 'silent' }) });
    try {
      const base = `http://127.0.0.1:${daemon.address.port}`;
      write('  api:\n    instances: [{ id: a1, address: "127.0.0.1:1" }, { id: a2, address: "127.0.0.1:2" }]\n    checks: [{ kind: tcp }]\n');
      const ok = await fetch(`${base}/api/v1/reload`, { method: 'POST' });
      expect(ok.status).toBe(200);
      expect(((await ok.json()) as { changes: unknown }).changes).toEqual({ added: 1, removed: 0, changed: 0, kept: 1 });

      write('  api:\n    instances: [{ id: a1, address: "127.0.0.1:1" }]\n    checks: [{ kind: tcp, interval: 5 parsecs }]\n');
      const bad = await fetch(`${base}/api/v1/reload`, { method: 'POST' });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { message: string }).message).toContain('services.api.checks[0].interval: "5 parsecs" is not a duration');
      expect(daemon.engine.get('api/a2/tcp')).toBeDefined(); // the previous config still runs
    } finally {
      await daemon.stop();
    }
  });
});
