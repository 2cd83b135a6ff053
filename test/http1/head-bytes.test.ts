import { describe, expect, it } from 'vitest';
import { headersLength, putHeaders, putLatin1, requestHeadBytes, statusLine } from '../../src/http1/head-bytes.js';
import { requestHeadText } from '../../src/http1/head-text.js';

describe('head-bytes', () => {
  it('writes a head byte for byte as its text form would be', () => {
    const headers = ['Server', 'nginx', 'X-Obs', 'caf\xe9', 'Empty', ''];
    const line = statusLine(200, 'OK');
    const out = Buffer.alloc(line.length + headersLength(headers) + 2 + 3, 0x2e);
    let at = putHeaders(out, putLatin1(out, 0, line), headers);
    at = putLatin1(out, at, '\r\n');
    expect(at).toBe(out.length - 3);
    expect(out.toString('latin1')).toBe('HTTP/1.1 200 OK\r\nServer: nginx\r\nX-Obs: caf\xe9\r\nEmpty: \r\n\r\n...');
  });

  it('writes a request head of exactly its bytes, equal to its text form', () => {
    const headers = ['Host', 'a:1', 'X-Obs', 'caf\xe9', 'Empty', ''];
    for (const [method, path, hs] of [
      ['GET', '/', headers],
      ['OPTIONS', '*', []],
      ['DELETE', '/x?y=%20', headers],
    ] as const) {
      const bytes = requestHeadBytes(method, path, hs);
      // Exact length: a spare byte would go on the wire before the next request on the connection.
      expect(bytes.toString('latin1')).toBe(requestHeadText(method, path, hs));
    }
  });

  it('gives the standard status line once made, and builds any other reason', () => {
    expect(statusLine(404, 'Not Found')).toBe('HTTP/1.1 404 Not Found\r\n');
    expect(statusLine(404, 'Not Found')).toBe('HTTP/1.1 404 Not Found\r\n');
    expect(statusLine(404, 'Nope')).toBe('HTTP/1.1 404 Nope\r\n');
    expect(statusLine(299, '')).toBe('HTTP/1.1 299 \r\n');
  });
});
