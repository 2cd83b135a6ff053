/**
 * The SIGKILL test of sqlite.test.ts with writes on the writer thread
 * (`writes: 'worker'`, group commits, sorted rows, two flushes in flight):
 * acknowledged registrations survive, results are a gap-free prefix.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe } from 'vitest';
import { crashSafetyTest } from './crash-harness.js';

const root = mkdtempSync(join(tmpdir(), 'healthmesh-store-crash-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('SqliteHistoryStore crash safety, writer thread', () => {
  crashSafetyTest(join(root, 'crash-worker'), "{ path, writes: 'worker', sortRows: true }", 'maxInFlight: 2,');
});
