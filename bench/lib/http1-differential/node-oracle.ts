/**
 * node's verdict: a node:http server on 127.0.0.1, configured as the proxy's
 * node engine is, reports over the connection what it parsed of that
 * connection's first request (or the parse error).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { BODY_PROBE, type Accepted, type Framing, type Verdict } from './verdicts.js';

/** A node:http server configured as the proxy's node engine is, reporting what it parsed of each connection's first request. */
export class NodeOracle {
  private constructor(
    private readonly server: Server,
    private readonly port: number,
  ) {}

  static async start(): Promise<NodeOracle> {
    // As proxy.ts creates it: defaults (maxHeaderSize 16 KB, requireHostHeader), an 'upgrade' listener.
    const server = createServer({ requestTimeout: 0 });
    const onRequest = (req: IncomingMessage): void => observeRequest(req);
    server.on('request', onRequest);
    // Expect is not parsing: node would answer 100 or 417 itself; here the request is reported like any other.
    server.on('checkContinue', onRequest);
    server.on('checkExpectation', onRequest);
    server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
      if (claim(socket)) report(socket, { ...headOf(req), framing: { kind: 'upgrade' } });
    });
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      const s = socket as ClaimedSocket;
      if (s[kClaimed] === undefined) {
        s[kClaimed] = { error: err.code ?? 'error' };
        report(socket, { ok: false, code: err.code ?? 'error' });
      } else if (s[kClaimed].error === undefined) {
        // A parse error after the first request's head: its body, or the next request (see observeRequest).
        s[kClaimed].error = err.code ?? 'error';
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new NodeOracle(server, (server.address() as AddressInfo).port);
  }

  /**
   * node's verdict on `head` + BODY_PROBE, on a connection of its own.
   * Bounded: when node says nothing within `waitMs` (it is waiting for more
   * of a head it has not finished), the client half-closes, which makes
   * llhttp decide; after `timeoutMs` the verdict is `timeout`.
   */
  verdict(head: string, waitMs = 500, timeoutMs = 10_000): Promise<Verdict> {
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let settled = false;
      const c = connect(this.port, '127.0.0.1');
      const finish = (v: Verdict): void => {
        if (settled) return;
        settled = true;
        clearTimeout(nudge);
        clearTimeout(bound);
        c.destroy();
        resolve(v);
      };
      const nudge = setTimeout(() => c.end(), waitMs);
      const bound = setTimeout(() => finish({ ok: false, code: 'timeout' }), timeoutMs);
      c.on('error', () => {});
      c.on('data', (d: Buffer) => {
        chunks.push(d);
        const text = Buffer.concat(chunks).toString('utf8');
        const nl = text.indexOf('\n');
        if (text.startsWith('{') && nl >= 0) finish(JSON.parse(text.slice(0, nl)) as Verdict);
      });
      c.on('close', () => {
        const text = Buffer.concat(chunks).toString('latin1');
        // node:http's own answers (a missing Host is a 400) and silent closes (CONNECT without a listener).
        const status = /^HTTP\/1\.1 (\d{3})/.exec(text);
        finish({ ok: false, code: status ? `node_${status[1]}` : text === '' ? 'closed' : 'unknown' });
      });
      c.write(Buffer.from(head + BODY_PROBE, 'latin1'));
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const kClaimed = Symbol('differential.claimed');
/** A server socket whose first request (or parse error) was seen; later ones on it are ignored. */
type ClaimedSocket = Socket & { [kClaimed]?: { error: string | undefined } };

function claim(socket: Socket): boolean {
  const s = socket as ClaimedSocket;
  if (s[kClaimed] !== undefined) return false;
  s[kClaimed] = { error: undefined };
  return true;
}

function headOf(req: IncomingMessage): Omit<Accepted, 'framing'> {
  return { ok: true, method: req.method ?? '', target: req.url ?? '', version: req.httpVersion, headers: req.rawHeaders };
}

/**
 * The first request of a connection: its body is read until the end of this
 * turn of the event loop. head + BODY_PROBE arrive in one read, and llhttp
 * parses a read whole before anything else runs, so by then the body is
 * complete (or still waiting for bytes that will not come), and a parse
 * error in it has been reported to clientError.
 */
function observeRequest(req: IncomingMessage): void {
  const socket = req.socket as ClaimedSocket;
  if (!claim(socket)) return; // a request BODY_PROBE made, after the first one
  const body: Buffer[] = [];
  req.on('data', (d: Buffer) => body.push(d));
  setImmediate(() => {
    const claimed = socket[kClaimed]!;
    const got = Buffer.concat(body).toString('latin1');
    let framing: Framing;
    if (req.complete) {
      if (got === 'hello') framing = { kind: 'chunked' };
      else if (BODY_PROBE.startsWith(got)) framing = { kind: 'length', n: got.length };
      else {
        report(socket, { ok: false, code: `unexpected_body ${JSON.stringify(got)}` });
        return;
      }
    } else if (claimed.error !== undefined) {
      // The head was read, then its body's framing failed (Transfer-Encoding: xchunked...): the message is refused.
      report(socket, { ok: false, code: `after_head_${claimed.error}` });
      return;
    } else if (got === BODY_PROBE) {
      framing = { kind: 'length-over' };
    } else {
      report(socket, { ok: false, code: `incomplete_body ${JSON.stringify(got)}` });
      return;
    }
    report(socket, { ...headOf(req), framing });
  });
}

function report(socket: Socket, v: Verdict): void {
  if (!socket.destroyed) socket.end(`${JSON.stringify(v)}\n`);
}
