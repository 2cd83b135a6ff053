import { describe, expect, it } from 'vitest';
import { knownHeaderName } from '../../src/http1/header-names.js';
import { isNamed } from '../../src/http1/syntax.js';

const bytes = (s: string): Buffer => Buffer.from(`xx${s}: v`, 'latin1');
const lookup = (s: string): string | undefined => knownHeaderName(bytes(s), 2, 2 + s.length);

describe('knownHeaderName', () => {
  it.each([
    'Content-Length',
    'content-length',
    'Date',
    'date',
    'ETag',
    'etag',
    'Server',
    'WWW-Authenticate',
    'www-authenticate',
    'X-Request-Id',
    'x-request-id',
  ])('gives the name %s for its exact bytes', (name) => {
    expect(lookup(name)).toBe(name);
  });

  it.each(['CONTENT-LENGTH', 'Content-length', 'Etag', 'Dates', 'Dat', 'X-Unknown', 'Contents-Length'])(
    'has no constant for %s (relayed as it came)',
    (name) => {
      expect(lookup(name)).toBeUndefined();
    },
  );
});

describe('isNamed', () => {
  it('matches a name in any ASCII case against its lower-case form, and nothing else', () => {
    expect(isNamed('Content-Length', 'content-length')).toBe(true);
    expect(isNamed('CONNECTION', 'connection')).toBe(true);
    expect(isNamed('connection', 'connection')).toBe(true);
    expect(isNamed('Connections', 'connection')).toBe(false);
    expect(isNamed('Connectio', 'connection')).toBe(false);
    // Only A-Z fold: '\r' (0x0d) and '-' (0x2d) differ by the case bit.
    expect(isNamed('content\rlength', 'content-length')).toBe(false);
    expect(isNamed('Ünnection', 'connection')).toBe(false);
  });
});
