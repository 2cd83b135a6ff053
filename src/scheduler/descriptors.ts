import { readFileSync } from 'node:fs';
import type { CheckSpec } from '../core/check.js';
import type { HttpCheckConfig } from '../config/kinds/http.js';
import { keepsConnection } from '../checks/http-plan.js';

/**
 * How many file descriptors the checks need at once, against how many the
 * process may open (RLIMIT_NOFILE). A check that keeps a connection between
 * runs (http with reuse, grpc's channel) holds one all the time; every other
 * probe holds one only while it runs, so at most `concurrency` of them. Past
 * the limit connects fail with EMFILE, which would show as targets failing:
 * the daemon says so at start instead (daemon.ts).
 */

/** Descriptors the daemon needs besides its checks: server, store, logs, Node itself. */
const BASE_DESCRIPTORS = 64;

/** The descriptors `specs` may hold at once when `concurrency` checks run at a time. */
export function descriptorsNeeded(specs: Iterable<CheckSpec>, concurrency: number): { kept: number; total: number } {
  let kept = 0;
  let checks = 0;
  for (const spec of specs) {
    checks++;
    if (spec.kind === 'grpc') kept++;
    else if (spec.kind === 'http' && keepsConnection(spec as CheckSpec<HttpCheckConfig>)) kept++;
  }
  return { kept, total: BASE_DESCRIPTORS + kept + Math.min(concurrency, checks) };
}

/**
 * The soft RLIMIT_NOFILE of this process (Node raises it to the hard limit at
 * start), from /proc/self/limits; null where that file does not exist.
 */
export function openFileLimit(limitsText?: string): number | null {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return null;
    }
  }
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(text);
  if (!m) return null;
  return m[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[1]);
}

/** A warning line when the checks would need more descriptors than the limit, else null. */
export function descriptorWarning(specs: Iterable<CheckSpec>, concurrency: number, limit: number | null): string | null {
  if (limit === null) return null;
  const need = descriptorsNeeded(specs, concurrency);
  if (need.total <= limit) return null;
  return (
    `the checks may need ${need.total} open files (${need.kept} kept connections, up to ${concurrency} probes ` +
    `in flight) but this process may open ${limit} (RLIMIT_NOFILE): probes past it fail with EMFILE. ` +
    'Raise the limit (ulimit -n, LimitNOFILE= in systemd), lower scheduler.concurrency, or set ' +
    'reuse_connections: false (or auto) on http checks run less often than every 4 s'
  );
}
