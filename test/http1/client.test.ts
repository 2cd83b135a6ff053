import { connect, createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { encodeRequest, validateHeader } from '../../src/http1/client.js';

describe('http1 request encoding', () => {
  it('encodes the request line, host, headers and connection: close once', () => {
    const bytes = encodeRequest({
      method: 'GET',
      path: '/health?full=1',
      host: '127.0.0.1:8080',
      headers: ['X-Probe', 'yes', 'user-agent', 'healthmesh/0.1'],
      body: null,
    });
    expect(bytes.toString('latin1')).toBe(
      'GET /health?full=1 HTTP/1.1\r\n' + 'host: 127.0.0.1:8080\r\n' + 'X-Probe: yes\r\n' + 'user-agent: healthmesh/0.1\r\n' + 'connection: close\r\n' + '\r\n',
    );
  });

  it('adds content-length and the body, and content-length: 0 for a POST without one', () => {
    const post = encodeRequest({ method: 'POST', path: '/', host: 'h', headers: [], body: Buffer.from('pïng') });
    expect(post.toString('utf8')).toBe('POST / HTTP/1.1\r\nhost: h\r\nconnection: close\r\ncontent-length: 5\r\n\r\npïng');
    const empty = encodeRequest({ method: 'PUT', path: '/', host: 'h', headers: [], body: null });
    expect(empty.toString('latin1')).toContain('content-length: 0\r\n');
    const get = encodeRequest({ method: 'GET', path: '/', host: 'h', headers: [], body: null });
    expect(get.toString('latin1')).not.toContain('content-length');
  });

  it('lets a configured Host win and drops configured framing headers', () => {
    const bytes = encodeRequest({
      method: 'GET',
      path: '/',
      host: '10.0.0.1:80',
      headers: ['Host', 'api.internal', 'Connection', 'keep-alive', 'Content-Length', '99', 'Transfer-Encoding', 'chunked'],
      body: null,
    }).toString('latin1');
    expect(bytes).toBe('GET / HTTP/1.1\r\nHost: api.internal\r\nconnection: close\r\n\r\n');
  });

  it('refuses header names and values that would break the request', () => {
    expect(() => validateHeader('X-Ok', 'fine value')).not.toThrow();
    expect(() => validateHeader('X-Ok', 'tab\tand latin1 \xe9')).not.toThrow();
    expect(() => validateHeader('X-Bad', 'a\r\nInjected: 1')).toThrow(/control characters/);
    expect(() => validateHeader('X-Bad', 'nul\0')).toThrow(/control characters/);
    expect(() => validateHeader('X-Bad', 'emoji 🙂')).toThrow(/non-latin1/);
    expect(() => validateHeader('Bad Name', 'x')).toThrow(/bad header name/);
    expect(() => validateHeader('', 'x')).toThrow(/bad header name/);
    expect(() => validateHeader('X-Ünï', 'x')).toThrow(/bad header name/);
  });
});

describe('node:net onread contract the client relies on', () => {
  it('calls the onread callback with the socket as `this`, and still emits end', async () => {
    const server = createServer((s) => s.end('HTTP/1.1 200 OK\r\n\r\n'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      const seen: boolean[] = [];
      const socket = connect({
        host: '127.0.0.1',
        port,
        onread: {
          buffer: Buffer.alloc(64),
          callback(this: unknown) {
            seen.push(this === socket);
            return true;
          },
        },
      });
      await new Promise<void>((resolve, reject) => {
        socket.once('end', resolve);
        socket.once('error', reject);
      });
      socket.destroy();
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every(Boolean)).toBe(true);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
