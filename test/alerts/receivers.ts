/**
 * Real HTTP receivers on 127.0.0.1 for the notifier tests: they record every
 * request whole (headers and raw body) and answer as told.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** How the receiver answers one request. */
export type Behaviour = (req: Received, res: ServerResponse) => void;

export const answer200: Behaviour = (_req, res) => res.end('ok');

export interface Receiver {
  url: string;
  port: number;
  requests: Received[];
  behaviour: Behaviour;
  /** Stop listening (connections closed); `start()` listens again on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(behaviour: Behaviour = answer200, port = 0): Promise<Receiver> {
  let server: Server | null = null;
  const r: Receiver = {
    url: '',
    port,
    requests: [],
    behaviour,
    async start() {
      const s = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const rec: Received = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
          r.requests.push(rec);
          r.behaviour(rec, res);
        });
      });
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(r.port, '127.0.0.1', () => resolve());
      });
      server = s;
      r.port = (s.address() as AddressInfo).port;
      r.url = `http://127.0.0.1:${r.port}`;
    },
    async stop() {
      const s = server;
      server = null;
      if (!s) return;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    close() {
      return r.stop();
    },
  };
  await r.start();
  return r;
}

/** Poll until `predicate` holds; throws after `withinMs`. */
export async function until(predicate: () => boolean, withinMs: number, what: string): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
