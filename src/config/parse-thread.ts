/**
 * Thread entry (config/off-thread.ts starts it): read and validate a config
 * file away from the main thread, and answer with only what the main thread
 * does not hold already: the services whose fingerprint changed. It answers
 * every request it is sent, so a thread kept warm serves every reload.
 */
import { parentPort } from 'node:worker_threads';
import { isConfigError } from '../core/errors.js';
import { fastLoad, fingerprintsOf } from './fast-load.js';
import { envValuesOf, parseConfig, parseConfigWithLines, readConfigText } from './load.js';
import type { ParseAnswer, ParseRequest } from './off-thread.js';

async function answer({ path, env, fingerprints }: ParseRequest): Promise<ParseAnswer> {
  try {
    const text = await readConfigText(path);
    const quick = fingerprints ? fastLoad(text, env, fingerprints) : null;
    if (quick) {
      const { config, envValues, omitted, order } = quick;
      return { ok: true, config, order, omitted, fingerprints: fingerprintsOf(config) ?? new Map(), envValues };
    }
    // First load (parseConfig tries the quick path itself), or what the quick path just left to the thorough one.
    const config = fingerprints ? parseConfigWithLines(text, { file: path, env }) : parseConfig(text, { file: path, env });
    return {
      ok: true,
      config,
      order: Object.keys(config.services),
      omitted: [],
      fingerprints: fingerprintsOf(config) ?? new Map(),
      envValues: [...envValuesOf(config)],
    };
  } catch (err) {
    if (isConfigError(err)) return { ok: false, issues: err.issues, file: err.file };
    return { ok: false, message: (err as Error).message ?? String(err) };
  }
}

parentPort!.on('message', async ({ id, request }: { id: number; request: ParseRequest }) => {
  parentPort!.postMessage({ id, answer: await answer(request) });
});
