import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Bearer-token check in constant time: both sides are hashed first so the
 * comparison does not leak the token's length either.
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  if (!header) return false;
  const m = /^Bearer\s+(.+)$/i.exec(header.trim());
  if (!m) return false;
  const given = createHash('sha256').update(m[1]!).digest();
  const expected = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, expected);
}
