/**
 * Roll-up of statuses: checks → instance → service → mesh. Pure functions.
 */
import { severity, type HealthStatus } from '../core/status.js';

/**
 * How an instance combines its checks' statuses:
 * - `worst` (default): the most severe status.
 * - `all` (AND): HEALTHY when every check is; otherwise UNHEALTHY, so a
 *   DEGRADED check fails the instance.
 * - `any` (OR): HEALTHY when at least one check is; otherwise the best status.
 * - `{ k }` (k of n): HEALTHY when at least k checks are HEALTHY, DEGRADED when
 *   at least k are HEALTHY or DEGRADED, otherwise UNHEALTHY.
 * With no result yet (every check UNKNOWN) the instance is UNKNOWN under all.
 */
export type InstancePolicy = 'worst' | 'all' | 'any' | { k: number };

/**
 * Status of one instance from the statuses of its checks.
 *
 * @param checkStatuses current (thresholded) status of each check of the instance.
 * @param policy 'worst': the most severe status by severity()
 *   (HEALTHY < DEGRADED < UNKNOWN < UNHEALTHY).
 * @returns UNKNOWN when the instance has no checks, else the worst status.
 */
export function instanceStatus(checkStatuses: readonly HealthStatus[], policy: InstancePolicy = 'worst'): HealthStatus {
  if (policy === 'worst' || checkStatuses.length === 0) return worst(checkStatuses) ?? 'UNKNOWN';
  let healthy = 0;
  let degraded = 0;
  let unknown = 0;
  for (const s of checkStatuses) {
    if (s === 'HEALTHY') healthy++;
    else if (s === 'DEGRADED') degraded++;
    else if (s === 'UNKNOWN') unknown++;
  }
  if (unknown === checkStatuses.length) return 'UNKNOWN';
  if (policy === 'all') return healthy === checkStatuses.length ? 'HEALTHY' : 'UNHEALTHY';
  if (policy === 'any') return healthy > 0 ? 'HEALTHY' : degraded > 0 ? 'DEGRADED' : unknown > 0 ? 'UNKNOWN' : 'UNHEALTHY';
  if (healthy >= policy.k) return 'HEALTHY';
  return healthy + degraded >= policy.k ? 'DEGRADED' : 'UNHEALTHY';
}

/**
 * Status of a service from the statuses of its instances.
 *
 * - no instances, or every instance UNKNOWN → UNKNOWN (nothing is known yet,
 *   e.g. right after start-up; saying UNHEALTHY would page for nothing);
 * - every instance HEALTHY → HEALTHY;
 * - fewer HEALTHY instances than `minHealthy` → UNHEALTHY;
 * - otherwise (enough HEALTHY, some not) → DEGRADED.
 *
 * @param instanceStatuses status of each instance of the service.
 * @param minHealthy number of HEALTHY instances the service needs (≤ 0: any number will do).
 */
export function serviceStatus(instanceStatuses: readonly HealthStatus[], minHealthy: number): HealthStatus {
  let healthy = 0;
  let unknown = 0;
  for (const s of instanceStatuses) {
    if (s === 'HEALTHY') healthy++;
    else if (s === 'UNKNOWN') unknown++;
  }
  const total = instanceStatuses.length;
  if (total === 0 || unknown === total) return 'UNKNOWN';
  if (healthy === total) return 'HEALTHY';
  if (healthy < minHealthy) return 'UNHEALTHY';
  return 'DEGRADED';
}

/**
 * Status of the whole mesh from the statuses of its services: the worst of
 * them, except that an UNKNOWN service counts as DEGRADED. One service that
 * cannot be assessed should not hide the mesh's known state behind UNKNOWN
 * (which outranks DEGRADED), nor be taken for healthy.
 *
 * @param serviceStatuses status of each service.
 * @returns UNKNOWN when there are no services or all are UNKNOWN; otherwise
 *   the worst status with UNKNOWN read as DEGRADED.
 */
export function meshStatus(serviceStatuses: readonly HealthStatus[]): HealthStatus {
  let result: HealthStatus | undefined;
  for (const s of serviceStatuses) {
    if (s === 'UNKNOWN') continue;
    if (result === undefined || severity(s) > severity(result)) result = s;
  }
  if (result === undefined) return 'UNKNOWN';
  const anyUnknown = serviceStatuses.includes('UNKNOWN');
  return anyUnknown && severity(result) < severity('DEGRADED') ? 'DEGRADED' : result;
}

/** Most severe status of a list, undefined when empty. */
function worst(statuses: readonly HealthStatus[]): HealthStatus | undefined {
  let result: HealthStatus | undefined;
  for (const s of statuses) {
    if (result === undefined || severity(s) > severity(result)) result = s;
  }
  return result;
}
