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
 * Status of a service from the statuses of its instances. DEGRADED means
 * "works, but slow or warning", so it counts as passing, as
 * `status=passing` does in the instances API:
 *
 * - no instances, or every instance UNKNOWN → UNKNOWN (nothing is known yet,
 *   e.g. right after start-up; saying UNHEALTHY would page for nothing);
 * - every instance HEALTHY → HEALTHY;
 * - fewer passing (HEALTHY or DEGRADED) instances than `minHealthy` → UNHEALTHY;
 * - otherwise (enough passing, some not HEALTHY) → DEGRADED.
 *
 * The README's "Status rules" table lists every case; test/status/aggregate.test.ts tests each row.
 *
 * @param instanceStatuses status of each instance of the service.
 * @param minHealthy number of passing instances the service needs (≤ 0: any number will do).
 */
export function serviceStatus(instanceStatuses: readonly HealthStatus[], minHealthy: number): HealthStatus {
  let healthy = 0;
  let degraded = 0;
  let unknown = 0;
  for (const s of instanceStatuses) {
    if (s === 'HEALTHY') healthy++;
    else if (s === 'DEGRADED') degraded++;
    else if (s === 'UNKNOWN') unknown++;
  }
  const total = instanceStatuses.length;
  if (total === 0 || unknown === total) return 'UNKNOWN';
  if (healthy === total) return 'HEALTHY';
  if (healthy + degraded < minHealthy) return 'UNHEALTHY';
  return 'DEGRADED';
}

/** A service as the mesh sees it: its status and whether the mesh needs it. */
export interface MeshMember {
  status: HealthStatus;
  /** A critical service that is UNHEALTHY makes the mesh UNHEALTHY; another one only DEGRADED. */
  critical: boolean;
}

/**
 * Status of the whole mesh from its services:
 *
 * - no services, or every service UNKNOWN → UNKNOWN;
 * - a critical service UNHEALTHY → UNHEALTHY;
 * - any service not HEALTHY (a non-critical one UNHEALTHY, any DEGRADED or
 *   UNKNOWN) → DEGRADED;
 * - otherwise HEALTHY.
 *
 * One non-critical service down must not turn /health to 503 for the whole
 * mesh, and one service that cannot be assessed (UNKNOWN) must neither hide
 * the mesh's known state nor be taken for healthy.
 */
export function meshStatus(services: readonly MeshMember[]): HealthStatus {
  let known = 0;
  let allHealthy = true;
  for (const { status, critical } of services) {
    if (status === 'UNHEALTHY' && critical) return 'UNHEALTHY';
    if (status !== 'UNKNOWN') known++;
    if (status !== 'HEALTHY') allHealthy = false;
  }
  if (known === 0) return 'UNKNOWN';
  return allHealthy ? 'HEALTHY' : 'DEGRADED';
}

/** Most severe status of a list, undefined when empty. */
function worst(statuses: readonly HealthStatus[]): HealthStatus | undefined {
  let result: HealthStatus | undefined;
  for (const s of statuses) {
    if (result === undefined || severity(s) > severity(result)) result = s;
  }
  return result;
}
