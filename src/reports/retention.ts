/**
 * Files of scheduled reports and their cleanup. A file is named
 * `<schedule>-<run time as YYYYMMDDTHHMMSSZ>.<ext>`, so its age comes from
 * its name (the injected clock decides, never the file system's mtime), and
 * a retry of a run rewrites the same file.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** The file name of a schedule's run at `at` (epoch ms). */
export function reportFileName(schedule: string, at: number, extension: string): string {
  const stamp = new Date(at)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  return `${schedule}-${stamp}.${extension}`;
}

/** Run time of a schedule's file name, or null when the name is not one of its files. */
export function runTimeOf(schedule: string, file: string): number | null {
  if (!file.startsWith(`${schedule}-`)) return null;
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z\.[a-z]+$/.exec(file.slice(schedule.length + 1));
  if (!m) return null;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

/** A schedule's files in `folder`, newest first. */
export function reportFiles(folder: string, schedule: string): Array<{ file: string; at: number }> {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
  return names
    .map((file) => ({ file, at: runTimeOf(schedule, file) }))
    .filter((f): f is { file: string; at: number } => f.at !== null)
    .sort((a, b) => b.at - a.at || (a.file < b.file ? 1 : -1));
}

/** What a cleanup did. */
export interface Cleanup {
  kept: string[];
  deleted: string[];
}

/**
 * Delete a schedule's files beyond the `keep` newest and those older than
 * `maxAgeMs` at `now`. Other files in the folder are never touched.
 */
export function cleanupReports(folder: string, schedule: string, now: number, policy: { keep?: number; maxAgeMs?: number }): Cleanup {
  const kept: string[] = [];
  const deleted: string[] = [];
  reportFiles(folder, schedule).forEach((f, i) => {
    const tooMany = policy.keep !== undefined && i >= policy.keep;
    const tooOld = policy.maxAgeMs !== undefined && f.at < now - policy.maxAgeMs;
    if (tooMany || tooOld) {
      rmSync(join(folder, f.file), { force: true });
      deleted.push(f.file);
    } else kept.push(f.file);
  });
  return { kept, deleted };
}
