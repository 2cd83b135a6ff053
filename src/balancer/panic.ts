/**
 * Panic mode (Envoy's healthy_panic_threshold): when the share of healthy
 * instances falls below the threshold, balance over ALL instances instead of
 * piling every request on the few left, and say so.
 */
export interface PanicDecision<T> {
  panic: boolean;
  /** Healthy instances / all instances, 0..1 (0 when there are none). */
  healthyShare: number;
  /** The instances to balance over. */
  members: readonly T[];
}

/**
 * @param all every instance of the service
 * @param isHealthy whether an instance may take traffic normally
 * @param threshold share below which panic starts (default 0.5; 0 disables panic)
 */
export function choosePanic<T>(all: readonly T[], isHealthy: (t: T) => boolean, threshold = 0.5): PanicDecision<T> {
  const healthy = all.filter(isHealthy);
  const healthyShare = all.length ? healthy.length / all.length : 0;
  const panic = all.length > 0 && threshold > 0 && healthyShare < threshold;
  return { panic, healthyShare, members: panic ? all : healthy };
}
