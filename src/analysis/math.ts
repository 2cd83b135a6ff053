/**
 * Small numeric helpers shared by the analysis methods: normal and Student t
 * tails and quantiles, medians. Pure functions, no allocation on the hot paths
 * except where a copy is stated.
 */

/** Complementary error function (W. J. Cody's rational approximation via erfc ≈ Numerical Recipes' erfcc, |error| < 1.2e-7). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** P(Z > z) for a standard normal Z. */
export function normalUpperTail(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/** Two-sided p-value of a standard normal statistic: P(|Z| ≥ |z|). */
export function normalTwoSided(z: number): number {
  return erfc(Math.abs(z) / Math.SQRT2);
}

/** Standard normal quantile Φ⁻¹(p) for p in (0, 1) (Acklam's algorithm, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1), got ${p}`);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - lo) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}

/**
 * Student t quantile for `dof` degrees of freedom (Cornish–Fisher expansion
 * around the normal quantile; within 1 % of the exact value for dof ≥ 4, which
 * is all the forecast asks of it).
 */
export function studentQuantile(p: number, dof: number): number {
  const z = normalQuantile(p);
  if (!Number.isFinite(dof) || dof > 1e6) return z;
  const z2 = z * z;
  const g1 = ((z2 + 1) * z) / 4;
  const g2 = (((5 * z2 + 16) * z2 + 3) * z) / 96;
  const g3 = ((((3 * z2 + 19) * z2 + 17) * z2 - 15) * z) / 384;
  return z + g1 / dof + g2 / (dof * dof) + g3 / (dof * dof * dof);
}

/** Median of `values[0..n)` (a copy is sorted; the input is left as it is). NaN when n is 0. */
export function median(values: ArrayLike<number>, n = values.length): number {
  if (n === 0) return Number.NaN;
  const copy = Float64Array.from({ length: n }, (_, i) => values[i]!);
  copy.sort();
  return sortedMedian(copy, n);
}

/** Median of an ascending array's first n values. */
export function sortedMedian(sorted: ArrayLike<number>, n: number): number {
  const mid = n >> 1;
  return n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** 1.4826 × MAD estimates the standard deviation of normal data. */
export const MAD_TO_SIGMA = 1.4826;
