import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Create `path` (and its directory) readable by the owner only, before a
 * library opens it: the SQLite file holds registrations (their headers and
 * metadata) and check output, and SQLite gives its -wal and -shm files the
 * mode of the database file. An existing file keeps the mode it has (its
 * owner chose it). `:memory:` and URI names are left alone.
 */
export function createPrivateFile(path: string): void {
  if (path === ':memory:' || path === '' || path.startsWith('file:')) return;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    // 'wx': only when it does not exist yet; the mode is applied at creation (the umask can only take more away).
    closeSync(openSync(path, 'wx', 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}
