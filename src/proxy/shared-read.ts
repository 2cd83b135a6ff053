/**
 * Accepted client sockets that read into one shared buffer (`onread`), as
 * the lean engine's upstream sockets do.
 *
 * node:net offers `onread` only to the Socket constructor, never to a
 * server's accepted sockets: those always read through their Readable, one
 * Buffer (a malloc and an ArrayBuffer) and a `data` event per read. Measured
 * with bench/proxy-ab (old and new builds alternating, medians of 6 runs):
 * CPU per request 90 → 80 µs at 2k requests/s, 52 → 48 at 8k, 30 → 28 at
 * saturation (c32: 32.8k → 36.4k requests/s).
 *
 * So the accepted socket's handle moves to a new Socket built with `onread`
 * (node's own server builds its sockets the same way, from the handle). The
 * server must be created with `pauseOnConnect: true` so the first Socket
 * never starts reading. That Socket, now without a handle, is destroyed at
 * once (keeping it until the connection closes would cost ~1 KB of heap per
 * open connection), so the server no longer counts the connection:
 * `server.close()` resolves once it stops listening, and the caller tracks
 * the sockets it adopted (proxy.ts waits for them on close).
 */
import { Socket } from 'node:net';

/** Called for each read with `buf[0, nread)`, `this` being the adopted socket; valid during the call only. */
export type SharedReadCallback = (this: Socket, nread: number, buf: Buffer) => boolean;

/** The fields of node's Socket this relies on: its native handle (private, stable since node 0.x). */
interface WithHandle {
  _handle: object | null;
}

/**
 * A Socket on `accepted`'s connection that reads into `buffer` and calls
 * `callback` (return false to pause); `accepted` is left closed. Undefined
 * when the connection is already gone.
 */
export function adoptWithSharedBuffer(accepted: Socket, buffer: Buffer, callback: SharedReadCallback): Socket | undefined {
  const from = accepted as unknown as WithHandle;
  const handle = from._handle;
  if (handle === null || accepted.destroyed) {
    accepted.destroy();
    return undefined;
  }
  from._handle = null;
  // `handle` is not in node's public types; `allowHalfOpen` as the proxy's server has it.
  const options = { handle, allowHalfOpen: true, readable: true, writable: true, onread: { buffer, callback } };
  accepted.destroy();
  return new Socket(options as ConstructorParameters<typeof Socket>[0]);
}
