/**
 * Well-known header names as constant strings, so a parser reading a head
 * makes no string for them: header names repeat on every response (nginx
 * sends the same eight), and each one made is garbage for the next scavenge.
 * The bytes are matched exactly (case included: a proxy relays names as it
 * got them), in the canonical Title-Case most servers send and in the lower
 * case of HTTP/2-era servers (node, Envoy, Go's h2 bridges).
 */

const NAMES = [
  'Accept-Ranges',
  'Access-Control-Allow-Credentials',
  'Access-Control-Allow-Headers',
  'Access-Control-Allow-Methods',
  'Access-Control-Allow-Origin',
  'Access-Control-Expose-Headers',
  'Age',
  'Cache-Control',
  'Connection',
  'Content-Disposition',
  'Content-Encoding',
  'Content-Language',
  'Content-Length',
  'Content-Security-Policy',
  'Content-Type',
  'Date',
  'ETag',
  'Expires',
  'Keep-Alive',
  'Last-Modified',
  'Link',
  'Location',
  'Pragma',
  'Referrer-Policy',
  'Retry-After',
  'Server',
  'Set-Cookie',
  'Strict-Transport-Security',
  'Transfer-Encoding',
  'Vary',
  'Via',
  'WWW-Authenticate',
  'X-Content-Type-Options',
  'X-Frame-Options',
  'X-Request-Id',
];

/** Candidates by length and first byte: (length << 8) | byte. */
const BY_SHAPE = new Map<number, string[]>();
for (const name of [...NAMES, ...NAMES.map((n) => n.toLowerCase())]) {
  const key = (name.length << 8) | name.charCodeAt(0);
  const list = BY_SHAPE.get(key);
  if (list === undefined) BY_SHAPE.set(key, [name]);
  else if (!list.includes(name)) list.push(name);
}

/** The constant string equal to the bytes buf[start, end), when they are a well-known name in one of its two casings. */
export function knownHeaderName(buf: Uint8Array, start: number, end: number): string | undefined {
  const list = BY_SHAPE.get(((end - start) << 8) | buf[start]!);
  if (list === undefined) return undefined;
  for (let k = 0; k < list.length; k++) if (sameLatin1(list[k]!, buf, start, end)) return list[k];
  return undefined;
}

/** Whether the latin1 string `s` equals the bytes buf[start, end). */
export function sameLatin1(s: string, buf: Uint8Array, start: number, end: number): boolean {
  if (s.length !== end - start) return false;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) !== buf[start + i]) return false;
  return true;
}
