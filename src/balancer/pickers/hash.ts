/** Non-allocating string hashes and prime helpers for the hashing pickers. */

/** FNV-1a 32-bit offset basis. */
export const FNV_OFFSET = 0x811c9dc5;

/**
 * FNV-1a over the string's UTF-16 code units (no encoding, no allocation).
 * Returns an unsigned 32-bit integer.
 */
export function fnv1a(s: string, seed: number = FNV_OFFSET): number {
  let h = seed | 0;
  for (let i = 0; i < s.length; i++) {
    h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  }
  return h >>> 0;
}

/**
 * murmur3's 32-bit finalizer: FNV's low bits avalanche poorly, and Maglev
 * and ring lookups take them modulo a table size.
 */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hash of a request key: unsigned 32-bit, well mixed. */
export function hashKey(s: string): number {
  return fmix32(fnv1a(s));
}

/** Whether n is prime (trial division; n up to ~1e9 is instant enough for table builds). */
export function isPrime(n: number): boolean {
  if (n < 2 || !Number.isInteger(n)) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

/** Smallest prime ≥ n. */
export function nextPrime(n: number): number {
  let p = Math.max(2, Math.ceil(n));
  while (!isPrime(p)) p++;
  return p;
}
