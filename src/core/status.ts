/** Health of a check, an instance, a service or the whole mesh. */
export const HealthStatus = {
  HEALTHY: 'HEALTHY',
  DEGRADED: 'DEGRADED',
  UNHEALTHY: 'UNHEALTHY',
  UNKNOWN: 'UNKNOWN',
} as const;
export type HealthStatus = (typeof HealthStatus)[keyof typeof HealthStatus];

export const ALL_STATUSES: readonly HealthStatus[] = ['HEALTHY', 'DEGRADED', 'UNHEALTHY', 'UNKNOWN'];

/**
 * Severity used to pick the worst of several statuses. UNKNOWN ranks above
 * DEGRADED: a check that cannot run hides a problem we cannot see.
 */
const SEVERITY: Record<HealthStatus, number> = { HEALTHY: 0, DEGRADED: 1, UNKNOWN: 2, UNHEALTHY: 3 };

/** Severity rank of a status (0 = HEALTHY … 3 = UNHEALTHY). */
export function severity(status: HealthStatus): number {
  return SEVERITY[status];
}

/** The more severe of two statuses. */
export function worse(a: HealthStatus, b: HealthStatus): HealthStatus {
  return SEVERITY[a] >= SEVERITY[b] ? a : b;
}

/** Nagios plugin exit code for a status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. */
export function nagiosExitCode(status: HealthStatus): 0 | 1 | 2 | 3 {
  switch (status) {
    case 'HEALTHY':
      return 0;
    case 'DEGRADED':
      return 1;
    case 'UNHEALTHY':
      return 2;
    default:
      return 3;
  }
}
