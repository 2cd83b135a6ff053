import { describe, expect, it } from 'vitest';
import { MAX_REQUEST_HEAD_BYTES, readRequestHead } from '../../src/http1/request-head.js';

function read(text: string) {
  return readRequestHead(Buffer.from(text, 'latin1'), 0);
}

describe('lean request-head reader', () => {
  it('reads a request line and headers, keeping order, case and repeats', () => {
    const r = read('GET /a?b=1 HTTP/1.1\r\nHost: x\r\nX-A:  1 \r\nx-a: 2\r\n\r\nNEXT');
    expect(r).toMatchObject({
      ok: true,
      method: 'GET',
      target: '/a?b=1',
      minor: 1,
      raw: ['Host', 'x', 'X-A', '1', 'x-a', '2'],
      contentLength: -1,
      chunked: false,
      close: false,
      special: false,
    });
    expect(r?.ok === true && r.end).toBe('GET /a?b=1 HTTP/1.1\r\nHost: x\r\nX-A:  1 \r\nx-a: 2\r\n\r\n'.length);
  });

  it('waits for the rest of a head split anywhere, even inside the final CRLFCRLF', () => {
    const full = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';
    for (let cut = 1; cut < full.length; cut++) {
      expect(read(full.slice(0, cut))).toBeUndefined();
      const buf = Buffer.from(full, 'latin1');
      expect(readRequestHead(buf, 0, cut)).toMatchObject({ ok: true });
    }
  });

  it('reads origin-, asterisk- and absolute-form targets and every method node:http knows but CONNECT', () => {
    for (const target of ['/a?b#c', '*', '*x', 'http://u@h:80/p?q', 'HTTP://H', 'x://']) {
      expect(read(`OPTIONS ${target} HTTP/1.1\r\nHost: x\r\n\r\n`)).toMatchObject({ ok: true, target });
    }
    for (const method of ['GET', 'DELETE', 'M-SEARCH', 'PROPFIND', 'PURGE', 'QUERY']) {
      expect(read(`${method} / HTTP/1.1\r\nHost: x\r\n\r\n`)).toMatchObject({ ok: true, method });
    }
  });

  it('skips empty lines before the request line, reads Connection: close, Upgrade and Expect, and HTTP/1.0', () => {
    expect(read('\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Close\r\n\r\n')).toMatchObject({ ok: true, close: true });
    // Two empty lines are not the end of a head (found by the differential test).
    expect(read('\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n')).toMatchObject({ ok: true, method: 'GET', target: '/' });
    expect(read('\r\n\r\n')).toBeUndefined();
    expect(read('GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n')).toMatchObject({ ok: true, special: true });
    expect(read('PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n')).toMatchObject({ ok: true, special: true, contentLength: 3 });
    expect(read('GET / HTTP/1.0\r\n\r\n')).toMatchObject({ ok: true, minor: 0, close: true });
    expect(read('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n')).toMatchObject({ ok: true, chunked: true });
  });

  // Request smuggling defenses: every one of these is refused, never guessed at.
  it.each([
    [
      'CL and TE together',
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n',
      400,
      'content_length_and_transfer_encoding',
    ],
    ['duplicate CL, equal', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n', 400, 'duplicate_content_length'],
    ['conflicting CL', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\ncontent-length: 4\r\n\r\n', 400, 'duplicate_content_length'],
    ['CL list', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\n\r\n', 400, 'bad_content_length'],
    ['CL sign', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\n', 400, 'bad_content_length'],
    ['CL hex', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x3\r\n\r\n', 400, 'bad_content_length'],
    ['CL empty', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n', 400, 'bad_content_length'],
    ['CL then HT (llhttp refuses)', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\t\r\n\r\n', 400, 'bad_content_length'],
    ['CL too long', `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${'9'.repeat(16)}\r\n\r\n`, 400, 'bad_content_length'],
    ['TE not ending in chunked', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n', 400, 'transfer_encoding_not_chunked'],
    ['TE identity', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n', 400, 'transfer_encoding_not_chunked'],
    ['TE chunked with junk', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n', 400, 'transfer_encoding_not_chunked'],
    ['TE another coding first', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', 501, 'transfer_encoding_not_supported'],
    ['TE with a trailing comma', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked,\r\n\r\n', 400, 'bad_transfer_encoding'],
    ['TE with an empty element first', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: , chunked\r\n\r\n', 400, 'bad_transfer_encoding'],
    ['TE empty', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \r\n\r\n', 400, 'bad_transfer_encoding'],
    ['TE chunked then HT (llhttp: not chunked)', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\t\r\n\r\n', 400, 'bad_transfer_encoding'],
    ['TE twice', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n', 501, 'transfer_encoding_not_supported'],
    ['obs-fold', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n 2\r\n\r\n', 400, 'obs_fold'],
    ['obs-fold of TE', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\n\r\n', 400, 'obs_fold'],
    ['bare LF line end', 'GET / HTTP/1.1\nHost: x\r\n\r\n', 400, 'bare_cr_or_lf'],
    ['bare LF head end', 'GET / HTTP/1.1\r\nHost: x\n\n', 400, 'bare_lf'],
    ['bare CR in a value', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n', 400, 'bare_cr_or_lf'],
    ['NUL in a value', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n', 400, 'bad_header_value'],
    ['space before colon', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length : 3\r\n\r\n', 400, 'bad_header_line'],
    ['bad token in a name', 'GET / HTTP/1.1\r\nHost: x\r\nX(A): 1\r\n\r\n', 400, 'bad_header_line'],
    ['empty name', 'GET / HTTP/1.1\r\nHost: x\r\n: 1\r\n\r\n', 400, 'bad_header_line'],
    ['bad method', 'G(T / HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'bad_request_line'],
    ['two spaces', 'GET  / HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'bad_request_line'],
    ['control in target', 'GET /a\x01b HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'bad_request_line'],
    ['HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 501, 'method_not_implemented'],
    // Found by test/http1/differential.test.ts: node:http refuses these, so must we.
    ['a method node:http does not know', 'FOO / HTTP/1.1\r\nHost: x\r\n\r\n', 501, 'method_not_implemented'],
    ['an RTSP method', 'DESCRIBE / HTTP/1.1\r\nHost: x\r\n\r\n', 501, 'method_not_implemented'],
    ['CONNECT', 'CONNECT x:443 HTTP/1.1\r\nHost: x\r\n\r\n', 501, 'method_not_implemented'],
    ['authority-form target', 'GET x:443 HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'bad_request_target'],
    ['a target in no form', 'GET x HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'bad_request_target'],
    ['a scheme of other than letters', 'GET h2://x/ HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'bad_request_target'],
    ['a byte llhttp refuses in an authority', 'GET http://a{b/ HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'bad_request_target'],
    ['lower-case version', 'GET / http/1.1\r\nHost: x\r\n\r\n', 400, 'bad_http_version'],
    ['no Host', 'GET / HTTP/1.1\r\nX: y\r\n\r\n', 400, 'missing_host'],
    ['two Hosts', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400, 'duplicate_host'],
  ])('refuses %s', (_what, text, status, code) => {
    expect(read(text)).toEqual({ ok: false, status, code });
  });

  it('refuses heads over the size cap (431) and more than 100 header lines (431)', () => {
    const big = `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(MAX_REQUEST_HEAD_BYTES)}\r\n\r\n`;
    expect(read(big)).toMatchObject({ ok: false, status: 431 });
    const many = `GET / HTTP/1.1\r\nHost: x\r\n${'X-A: 1\r\n'.repeat(100)}\r\n`;
    expect(read(many)).toMatchObject({ ok: false, status: 431, code: 'too_many_headers' });
  });
});
