/**
 * The client side of an exchange served by node:http (the `node` engine, and
 * the requests the lean engine hands over: bodies, upgrades, 100-continue,
 * HTTP/1.0).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendError, type ClientSide } from './exchange.js';

/** A ServerResponse as an exchange's ClientSide. */
export class NodeClient implements ClientSide {
  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    /** The request has a body: an answer before it was read closes the connection. */
    private readonly hasBody: boolean,
    /** The proxy: while it drains, responses close their connection. */
    private readonly proxy: { readonly draining: boolean },
  ) {}

  onClose(fn: () => void): void {
    this.res.once('close', fn);
  }

  finished(): boolean {
    return this.res.writableFinished;
  }

  writeHead(status: number, statusText: string, headers: string[]): void {
    // node:http closes after a response that says so; the head lists no Connection header (hop-by-hop, removed).
    this.res.writeHead(status, statusText || undefined, this.proxy.draining ? [...headers, 'connection', 'close'] : headers);
  }

  write(chunk: Buffer): boolean {
    return this.res.write(chunk);
  }

  onceDrain(fn: () => void): void {
    this.res.once('drain', fn);
  }

  end(): void {
    this.res.end();
  }

  flush(): void {
    // node:http corks the head itself until the first write.
  }

  destroy(): void {
    this.res.destroy();
  }

  answer(status: number, body: Record<string, string | number>): void {
    sendError(this.res, this.hasBody && !this.req.complete, status, body);
  }
}
