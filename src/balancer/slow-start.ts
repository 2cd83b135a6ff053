/**
 * Slow start: an instance that just became healthy takes a growing share of
 * traffic over `windowMs` instead of its full weight at once (Envoy's
 * slow_start_config). factor = max(minFactor, (elapsed / window)^(1 / aggression)):
 * aggression 1 is linear; above 1 ramps faster early on.
 */
export interface SlowStartSettings {
  /** Length of the ramp, ms; 0 disables slow start. */
  windowMs: number;
  /** Curve exponent's inverse; 1 = linear, > 1 = aggressive early. */
  aggression?: number;
  /** Lowest factor while ramping, so a new instance is never starved (default 0.1). */
  minFactor?: number;
}

/** Weight factor 0..1 for an instance healthy since `since` (epoch ms), at `now`. */
export function slowStartFactor(since: number, now: number, s: SlowStartSettings): number {
  if (s.windowMs <= 0) return 1;
  const elapsed = now - since;
  if (elapsed >= s.windowMs) return 1;
  if (elapsed <= 0) return s.minFactor ?? 0.1;
  const ramp = (elapsed / s.windowMs) ** (1 / (s.aggression ?? 1));
  return Math.max(s.minFactor ?? 0.1, ramp);
}

/** The effective integer weight for pickers (which take positive integers): at least 1. */
export function rampedWeight(weight: number, since: number, now: number, s: SlowStartSettings, scale = 100): number {
  return Math.max(1, Math.round(weight * scale * slowStartFactor(since, now, s)));
}
