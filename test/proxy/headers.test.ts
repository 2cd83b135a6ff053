import { describe, expect, it } from 'vitest';
import { clientResponseHeaders, upstreamRequestHead } from '../../src/proxy/headers.js';

const b = (xs: string[]): Buffer[] => xs.map((x) => Buffer.from(x, 'latin1'));

describe('upstream request headers', () => {
  it('drops hop-by-hop and Connection-named headers, keeps the rest in order', () => {
    const head = upstreamRequestHead(
      [
        'Host',
        'svc.test:8080',
        'Connection',
        'keep-alive, X-Secret',
        'Keep-Alive',
        'timeout=5',
        'TE',
        'trailers',
        'Trailer',
        'X-T',
        'Upgrade',
        'websocket',
        'Proxy-Authorization',
        'Basic x',
        'Proxy-Whatever',
        '1',
        'X-Secret',
        'drop me',
        'Expect',
        '100-continue',
        'Accept',
        'a',
        'Cookie',
        'c=1',
        'Cookie',
        'd=2',
      ],
      '10.0.0.9',
      { proto: 'http' },
    );
    expect(head.headers).toEqual([
      'Host',
      'svc.test:8080',
      'Accept',
      'a',
      'Cookie',
      'c=1',
      'Cookie',
      'd=2',
      'x-forwarded-for',
      '10.0.0.9',
      'x-forwarded-proto',
      'http',
      'x-forwarded-host',
      'svc.test:8080',
    ]);
    expect(head.host).toBe('svc.test:8080');
    expect(head.contentLength).toBe(-1);
    expect(head.chunked).toBe(false);
  });

  it('appends to x-forwarded-for and via, replaces proto and host', () => {
    const head = upstreamRequestHead(
      ['host', 'h', 'X-Forwarded-For', '1.1.1.1', 'x-forwarded-for', '2.2.2.2', 'X-Forwarded-Proto', 'https', 'X-Forwarded-Host', 'evil', 'Via', '1.0 edge'],
      '3.3.3.3',
      { proto: 'http', via: '1.1 healthmesh' },
    );
    expect(head.headers).toEqual([
      'host',
      'h',
      'x-forwarded-for',
      '1.1.1.1, 2.2.2.2, 3.3.3.3',
      'x-forwarded-proto',
      'http',
      'x-forwarded-host',
      'h',
      'via',
      '1.0 edge, 1.1 healthmesh',
    ]);
  });

  it('reads content-length and transfer-encoding', () => {
    expect(upstreamRequestHead(['Content-Length', '12'], 'x', { proto: 'http' }).contentLength).toBe(12);
    const chunked = upstreamRequestHead(['Transfer-Encoding', 'chunked'], 'x', { proto: 'http' });
    expect(chunked.chunked).toBe(true);
    expect(chunked.headers).not.toContain('Transfer-Encoding');
  });
});

describe('client response headers', () => {
  it('drops hop-by-hop and Connection-named headers, keeps repeated Set-Cookie', () => {
    const out = clientResponseHeaders(
      b([
        'Content-Type',
        'text/plain',
        'Connection',
        'X-Internal',
        'X-Internal',
        'drop',
        'Transfer-Encoding',
        'chunked',
        'Keep-Alive',
        'timeout=4',
        'Proxy-Authenticate',
        'x',
        'Upgrade',
        'h2c',
        'Set-Cookie',
        'a=1',
        'Set-Cookie',
        'b=2',
      ]),
    );
    expect(out).toEqual(['Content-Type', 'text/plain', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2']);
  });

  it('adds or appends via when asked', () => {
    expect(clientResponseHeaders(b(['A', '1']), '1.1 hm')).toEqual(['A', '1', 'via', '1.1 hm']);
    expect(clientResponseHeaders(b(['Via', '1.1 up']), '1.1 hm')).toEqual(['Via', '1.1 up, 1.1 hm']);
  });
});

describe('header name pre-filter', () => {
  it('lets every name the proxy handles through', async () => {
    const { mayBeSpecial } = await import('../../src/proxy/headers.js');
    for (const n of [
      'TE',
      'Via',
      'Host',
      'Expect',
      'Trailer',
      'Upgrade',
      'Connection',
      'Keep-Alive',
      'Content-Length',
      'X-Forwarded-For',
      'X-Forwarded-Host',
      'Transfer-Encoding',
      'X-Forwarded-Proto',
      'Proxy-Connection',
      'proxy-authorization',
      'PROXY-X',
    ]) {
      expect(mayBeSpecial(n), n).toBe(true);
    }
    expect(mayBeSpecial('Accept-Language')).toBe(true); // same length as one handled: checked, kept
    expect(mayBeSpecial('Date')).toBe(true);
    expect(mayBeSpecial('Server')).toBe(true);
    expect(mayBeSpecial('Content-Type')).toBe(false);
    expect(mayBeSpecial('Cache-Control')).toBe(false);
  });

  it('lets every hop-by-hop response header and Via through, in any case; the common ones skip the check', async () => {
    const { mayBeHopByHop } = await import('../../src/proxy/headers.js');
    const names = ['TE', 'Via', 'Trailer', 'Upgrade', 'Connection', 'Keep-Alive', 'Transfer-Encoding', 'Proxy-Connection', 'proxy-authenticate', 'PROXY-X'];
    for (const n of [...names, ...names.map((x) => x.toLowerCase()), ...names.map((x) => x.toUpperCase())]) expect(mayBeHopByHop(n), n).toBe(true);
    for (const n of ['Date', 'Server', 'ETag', 'Content-Length', 'Content-Type', 'Last-Modified', 'Accept-Ranges', 'Set-Cookie'])
      expect(mayBeHopByHop(n), n).toBe(false);
  });

  it('drops a response header named by Connection, and keeps via in place', () => {
    const out = clientResponseHeaders(b(['X-A', '1', 'Connection', 'keep-alive, X-A', 'Via', '1.1 up', 'X-B', '2']), '1.1 hm');
    expect(out).toEqual(['Via', '1.1 up, 1.1 hm', 'X-B', '2']);
  });
});
