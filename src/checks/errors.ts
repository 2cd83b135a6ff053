import type { Reason } from '../core/result.js';

/**
 * Maps the errors that Node's net/tls/dns layers and undici raise to a stable
 * `Reason`, so every network check (http, tcp, …) reports the same failure the
 * same way. Unknown errors map to `error`: a new code shows up in output and
 * can be added here, never renamed.
 */

/** Exact error codes. Prefix families (HPE_, ERR_SSL_, ERR_TLS_, CERT_) are handled in reasonOfCode. */
const CODE_REASONS: Readonly<Record<string, Reason>> = {
  ECONNREFUSED: 'connect_refused',

  ECONNRESET: 'connect_reset',
  ECONNABORTED: 'connect_reset',
  EPIPE: 'connect_reset',
  UND_ERR_SOCKET: 'connect_reset',

  ENOTFOUND: 'dns',
  EAI_AGAIN: 'dns',
  EAI_FAIL: 'dns',
  EAI_NODATA: 'dns',
  EAI_NONAME: 'dns',

  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  EHOSTDOWN: 'unreachable',
  ENETDOWN: 'unreachable',
  EADDRNOTAVAIL: 'unreachable',

  ETIMEDOUT: 'timeout',
  ABORT_ERR: 'timeout',
  UND_ERR_ABORTED: 'timeout',
  UND_ERR_CONNECT_TIMEOUT: 'timeout',
  UND_ERR_HEADERS_TIMEOUT: 'timeout',
  UND_ERR_BODY_TIMEOUT: 'timeout',
  ERR_TLS_HANDSHAKE_TIMEOUT: 'timeout',

  // The dispatcher was closed under a running probe (check removed, shutdown).
  UND_ERR_CLOSED: 'aborted',
  UND_ERR_DESTROYED: 'aborted',

  UND_ERR_RES_EXCEEDED_MAX_SIZE: 'body_too_large',

  UND_ERR_HEADERS_OVERFLOW: 'protocol',
  UND_ERR_INFO: 'protocol',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'protocol',
  UND_ERR_REQ_CONTENT_LENGTH_MISMATCH: 'protocol',
  UND_ERR_NOT_SUPPORTED: 'protocol',
  UND_ERR_RESPONSE_STATUS_CODE: 'protocol',
  ERR_HTTP2_ERROR: 'protocol',
  ERR_HTTP2_STREAM_ERROR: 'protocol',
  ERR_HTTP2_SESSION_ERROR: 'protocol',
  ERR_HTTP2_GOAWAY_SESSION: 'protocol',

  // OpenSSL verification codes that do not start with CERT_.
  DEPTH_ZERO_SELF_SIGNED_CERT: 'tls',
  SELF_SIGNED_CERT_IN_CHAIN: 'tls',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'tls',
  UNABLE_TO_GET_ISSUER_CERT: 'tls',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'tls',
  UNABLE_TO_GET_CRL: 'tls',
  UNABLE_TO_DECRYPT_CERT_SIGNATURE: 'tls',
  UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY: 'tls',
  INVALID_CA: 'tls',
  INVALID_PURPOSE: 'tls',
  PATH_LENGTH_EXCEEDED: 'tls',
  HOSTNAME_MISMATCH: 'tls',
  ERR_TLS_CERT_ALTNAME_INVALID: 'tls',
  EPROTO: 'tls',
};

/** Reason for one error code, or undefined when the code is not known. */
export function reasonOfCode(code: string): Reason | undefined {
  const exact = CODE_REASONS[code];
  if (exact !== undefined) return exact;
  if (code.startsWith('HPE_')) return 'protocol';
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code.startsWith('CERT_')) return 'tls';
  if (code.startsWith('EAI_')) return 'dns';
  return undefined;
}

interface ErrorLike {
  code?: unknown;
  name?: unknown;
  message?: unknown;
  cause?: unknown;
  library?: unknown;
}

/**
 * The Reason for an error thrown or emitted by a network operation. Follows
 * `cause` chains (fetch-style wrapping, AggregateError of happy-eyeballs
 * attempts) and falls back to `error` for anything unrecognised.
 */
export function reasonFromError(err: unknown): Reason {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e !== null && typeof e === 'object'; depth++) {
    const x = e as ErrorLike;
    if (typeof x.code === 'string') {
      const r = reasonOfCode(x.code);
      if (r !== undefined) return r;
    }
    if (x.name === 'AbortError' || x.name === 'TimeoutError') return 'timeout';
    // undici 7 leaves `code` undefined on some parser errors (numeric llhttp code looked up by name).
    if (x.name === 'HTTPParserError') return 'protocol';
    // OpenSSL errors carry the library name; some lack a code we know.
    if (typeof x.library === 'string' && /SSL|TLS|X509/i.test(x.library)) return 'tls';
    // net.connect with autoSelectFamily reports every failed attempt in an AggregateError.
    if (e instanceof AggregateError && e.errors.length > 0) return reasonFromError(e.errors[0]);
    e = x.cause;
  }
  return 'error';
}

/** One human line describing an error: `ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:81`. */
export function describeError(err: unknown): string {
  if (err === null || typeof err !== 'object') return String(err);
  const x = err as ErrorLike;
  const hasMessage = typeof x.message === 'string' && x.message !== '';
  if (!hasMessage && err instanceof AggregateError && err.errors.length > 0) return describeError(err.errors[0]);
  let message = hasMessage ? (x.message as string) : String(x.name ?? 'error');
  const cause = x.cause as ErrorLike | undefined;
  if (cause && typeof cause === 'object' && typeof cause.message === 'string' && cause.message !== message) {
    message = `${message}: ${cause.message}`;
  }
  const line = typeof x.code === 'string' && !message.includes(x.code) ? `${x.code}: ${message}` : message;
  // Keep results one line: some errors (parser errors) embed raw bytes and newlines.
  return line.replace(/[\r\n]+/g, ' ').slice(0, 300);
}
