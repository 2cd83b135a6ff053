/** A source of uniform numbers in [0, 1), injected so tests are repeatable. */
export type Random = () => number;

export const realRandom: Random = Math.random;

/** Deterministic generator (mulberry32) for tests and benchmarks. */
export function seeded(seed: number): Random {
  // State in a typed array: a closure number above the small-integer range
  // would be boxed, allocating on every call of a hot picker.
  const state = new Uint32Array([seed >>> 0]);
  return () => {
    const a = (state[0]! + 0x6d2b79f5) >>> 0;
    state[0] = a;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
