/**
 * Bytes and character classes of HTTP/1.1 syntax (RFC 9110, 9112), shared by
 * the response parser (response-parser.ts), the proxy's request-head reader
 * (request-head.ts) and the proxy's relays.
 */

export const CR = 13;
export const LF = 10;
export const SP = 32;
export const HT = 9;
export const COLON = 58;

/** Most decimal digits accepted in a Content-Length (below 2^53). */
export const MAX_LENGTH_DIGITS = 15;

/** TOKEN[byte] === 1 for the tchar bytes of RFC 9110 §5.6.2. */
export const TOKEN = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TOKEN[c.charCodeAt(0)] = 1;

/** VALUE[byte] === 1 for bytes allowed in a field value: HT, visible ASCII, SP, obs-text. */
export const VALUE = new Uint8Array(256);
VALUE[HT] = 1;
for (let b = 0x20; b < 0x100; b++) if (b !== 0x7f) VALUE[b] = 1;

/** Whether every character of a latin1 string is allowed in a field value (or a reason phrase). */
export function isFieldValue(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (VALUE[text.charCodeAt(i)] !== 1) return false;
  return true;
}

/** Whether a header name equals `lower` (lower case) ignoring ASCII case, without the string toLowerCase() would allocate. */
export function isNamed(name: string, lower: string): boolean {
  if (name.length !== lower.length) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if ((c >= 0x41 && c <= 0x5a ? c + 32 : c) !== lower.charCodeAt(i)) return false;
  }
  return true;
}
