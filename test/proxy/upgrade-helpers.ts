/** What the upgrade tests (upgrade.test.ts, upgrade-hostile.test.ts) share: an upstream that answers upgrades, and the request. */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { startUpstream, type Upstream } from './helpers.js';

/** What the upstream saw of an upgrade request, and its side of the socket. */
export interface SeenUpgrade {
  req: IncomingMessage;
  /** Bytes the client sent after its head (node:http's `head`), latin1. */
  early: string;
  socket: Socket;
}

/** An upstream whose 'upgrade' handler is `answer`; `track` closes it after the test (useCleanups). */
export async function upgradeUpstream(
  track: <T extends { close(): Promise<void> }>(s: T) => T,
  answer: (seen: SeenUpgrade) => void,
): Promise<{ up: Upstream; seen: SeenUpgrade[] }> {
  const up = track(await startUpstream((_req, res) => res.end('plain')));
  const seen: SeenUpgrade[] = [];
  up.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const s = { req, early: head.toString('latin1'), socket };
    seen.push(s);
    socket.on('error', () => {});
    answer(s);
  });
  return { up, seen };
}

/** An upgrade request head for `path`, then `extra` bytes in the same write. */
export const UPGRADE = (path: string, extra = ''): string =>
  `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\nSec-WebSocket-Key: k1\r\n\r\n${extra}`;
