import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createConnection, createServer as createNetServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Servers for check tests: well-behaved ones that record what they saw, and
 * hostile ones (silent, trickling, endless, garbage, resetting, never
 * accepting). All listen on 127.0.0.1 on an ephemeral port; close() releases
 * every socket they hold.
 */

/** A listening test server. */
export interface TestServer {
  port: number;
  /** host:port, the instance address a check targets. */
  address: string;
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      const a = server.address();
      resolve(typeof a === 'object' && a !== null ? a.port : 0);
    });
  });
}

function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  for (const s of sockets) s.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A raw TCP server; `onSocket` decides what each accepted socket does. */
export async function rawServer(onSocket: (socket: Socket) => void): Promise<TestServer> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createNetServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    onSocket(socket);
  });
  const port = await listen(server);
  return {
    port,
    address: `127.0.0.1:${port}`,
    connections: () => accepted,
    close: () => closeServer(server, sockets),
  };
}

/** What a recording HTTP server saw of one request. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** Accepted-connection number the request came on (1-based). */
  connection: number;
  servername?: string;
}

/** An HTTP server that records requests; the handler gets the body already read. */
export interface RecordingServer extends TestServer {
  requests: SeenRequest[];
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

function recording(server: ReturnType<typeof createHttpServer>, handler: Handler, tls: boolean): Promise<RecordingServer> {
  const sockets = new Set<Socket>();
  const requests: SeenRequest[] = [];
  let accepted = 0;
  const connectionNo = new WeakMap<Socket, number>();
  server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    accepted++;
    connectionNo.set(socket, accepted);
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const socket = req.socket as Socket & { servername?: string };
      requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
        connection: connectionNo.get(socket) ?? 0,
        servername: socket.servername,
      });
      handler(req, res, body);
    });
  });
  return listen(server).then((port) => ({
    port,
    address: `127.0.0.1:${port}`,
    requests,
    connections: () => accepted,
    close: () => {
      server.closeAllConnections();
      return closeServer(server, sockets);
    },
  }));
}

/** A plain HTTP/1.1 server (keep-alive on) that records every request. */
export function httpServer(handler: Handler): Promise<RecordingServer> {
  return recording(createHttpServer(), handler, false);
}

/** Accepts, reads (so it sees the client leave), never answers. */
export function silentServer(): Promise<TestServer> {
  return rawServer((socket) => socket.resume());
}

/** Sends response headers, then one body byte a second (of 1000 announced). */
export function trickleServer(): Promise<TestServer> {
  return rawServer((socket) => {
    socket.once('data', () => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 1000\r\n\r\nx');
      const t = setInterval(() => socket.write('x'), 1000);
      socket.on('close', () => clearInterval(t));
    });
  });
}

/** A server sending an endless-looking body, made lazily, that reports when the client left. */
export interface HugeBodyServer extends TestServer {
  /** Bytes of body handed to the socket so far. */
  bytesSent(): number;
  /** Resolves with the bytes sent when the client disconnects (or the whole body went out). */
  disconnected: Promise<number>;
}

/** Answers 200 with a `totalBytes` body (default 1 GiB) in 64 KiB chunks, stopping when the client goes. */
export async function hugeBodyServer(totalBytes = 1024 ** 3): Promise<HugeBodyServer> {
  let sent = 0;
  let onGone: (n: number) => void = () => {};
  const disconnected = new Promise<number>((r) => (onGone = r));
  const chunk = Buffer.alloc(64 * 1024, 'a');
  const base = await rawServer((socket) => {
    socket.on('close', () => onGone(sent));
    socket.once('data', () => {
      socket.write(`HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${totalBytes}\r\n\r\n`);
      const pump = (): void => {
        while (!socket.destroyed && sent < totalBytes) {
          const n = Math.min(chunk.length, totalBytes - sent);
          sent += n;
          if (!socket.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
            socket.once('drain', pump);
            return;
          }
        }
        if (sent >= totalBytes) onGone(sent);
      };
      pump();
    });
  });
  return { ...base, bytesSent: () => sent, disconnected };
}

/** Answers any request with bytes that are not HTTP. */
export function garbageServer(): Promise<TestServer> {
  return rawServer((socket) => {
    socket.once('data', () => socket.write('\x00\x01\x02 this is not HTTP \xff\xfe\r\n\r\n'));
  });
}

/** Resets (RST) the connection as soon as the request arrives. */
export function resetServer(): Promise<TestServer> {
  return rawServer((socket) => {
    socket.once('data', () => socket.resetAndDestroy());
  });
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createNetServer();
  const port = await listen(server);
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** A key and self-signed certificate for CN=localhost, made with the openssl CLI. */
export function selfSignedCert(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'healthmesh-tls-'));
  try {
    const k = join(dir, 'k');
    const c = join(dir, 'c');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', k, '-out', c, '-days', '2', '-subj', '/CN=localhost'], {
      stdio: 'ignore',
    });
    return { key: readFileSync(k), cert: readFileSync(c) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An HTTPS server with a self-signed certificate that records requests (and the SNI seen). */
export function selfSignedHttpsServer(handler: Handler): Promise<RecordingServer> {
  const { key, cert } = selfSignedCert();
  return recording(createHttpsServer({ key, cert }) as unknown as ReturnType<typeof createHttpServer>, handler, true);
}

/** Connect to 127.0.0.1:`port`; resolves with the socket once connected, or undefined if it is still connecting after `withinMs` (that attempt is dropped). */
function connectWithin(port: number, withinMs: number): Promise<Socket | undefined> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(undefined);
    }, withinMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/**
 * A port where connects hang. A child Node process listens with backlog 1
 * and then blocks its main thread (Atomics.wait) inside the listening
 * callback, before its event loop ever polls, so it never calls accept().
 * Connections made here fill the kernel's accept queue until one no longer
 * completes; from then on the kernel drops every SYN, as it does for a host
 * too busy to accept. The child exits on close(), or by itself after a
 * minute if a test forgets it.
 */
export async function neverAcceptingServer(): Promise<{ port: number; address: string; close(): Promise<void> }> {
  const script = `
    const server = require('node:net').createServer();
    server.listen({ host: '127.0.0.1', port: 0, backlog: 1 }, () => {
      require('node:fs').writeSync(1, server.address().port + '\\n');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60000);
      process.exit(0);
    });
  `;
  const child: ChildProcess = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((r) => child.once('exit', r));
  const fillers: Socket[] = [];
  const close = async (): Promise<void> => {
    for (const s of fillers) s.destroy();
    child.kill('SIGKILL');
    await exited;
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`the never-accepting listener exited early (code ${code})`)));
      child.stdout?.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
    });
    for (;;) {
      const socket = await connectWithin(port, 300);
      if (!socket) break;
      socket.on('error', () => {});
      fillers.push(socket);
      if (fillers.length > 16) throw new Error(`127.0.0.1:${port} keeps accepting connections: the listener is not blocked`);
    }
    if (fillers.length === 0) throw new Error(`127.0.0.1:${port} accepted no connection at all`);
    return { port, address: `127.0.0.1:${port}`, close };
  } catch (err) {
    await close();
    throw err;
  }
}
