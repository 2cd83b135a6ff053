/** Small number helpers of the proxy benches (figures in ms, kept to µs). */

/** The median of `xs`; with an even count the mean of the middle two, to 3 decimals. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : round3((s[m - 1]! + s[m]!) / 2);
}

export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
