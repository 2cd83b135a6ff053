import { createServer, type Server } from 'node:net';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { realClock } from '../../src/core/clock.js';
import { realRandom } from '../../src/core/random.js';
import { parseConfig } from '../../src/config/load.js';
import { startDaemon } from '../../src/daemon.js';
import { BalancerSet, balancerConfigs } from '../../src/balancer/balancer-set.js';
import { FollowFeed } from '../../src/balancer/follow-feed.js';
import { useCleanups } from '../helpers/cleanups.js';
import { waitFor } from '../helpers/spawn.js';

const { cleanups } = useCleanups();
const silent = pino({ level: 'silent' });

async function tcpTarget(): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { server, port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('FollowFeed: a proxy following a running daemon', () => {
  it('sees a target go down through the event stream, and keeps the last members when the daemon goes away', async () => {
    const t1 = await tcpTarget();
    const t2 = await tcpTarget();
    cleanups.push(() => t1.close());
    const yaml = `
server: { listen: "127.0.0.1:0" }
storage: { path: ":memory:" }
defaults: { interval: 100ms, timeout: 500ms, rise: 1, fall: 1, jitter: 0 }
services:
  api:
    instances: [{ id: a1, address: "127.0.0.1:${t1.port}" }, { id: a2, address: "127.0.0.1:${t2.port}" }]
    checks: [{ kind: tcp }]
`;
    const config = parseConfig(yaml, { env: {} });
    const daemon = await startDaemon({ config, logger: silent });
    let daemonUp = true;
    cleanups.push(async () => {
      if (daemonUp) await daemon.stop();
    });

    const set = new BalancerSet({ clock: realClock, random: realRandom });
    set.configure(balancerConfigs(config));
    const feed = new FollowFeed({ set, url: `http://127.0.0.1:${daemon.address.port}`, clock: realClock, logger: silent, refreshMs: 60_000 });
    cleanups.push(() => {
      feed.stop();
      set.close();
    });
    await feed.start();
    const usable = () =>
      set
        .snapshot('api')!
        .instances.filter((m) => m.usable)
        .map((m) => m.id)
        .sort()
        .join(',');
    await waitFor(() => usable() === 'a1,a2', 5_000, 'both instances usable in the follower');
    await waitFor(() => feed.status().connected, 5_000, 'the event stream');

    await t2.close(); // refused from now on
    await waitFor(() => usable() === 'a1', 5_000, 'a2 out of rotation in the follower');
    expect(set.balancer('api')!.pick()!.id).toBe('a1');

    await daemon.stop();
    daemonUp = false;
    await waitFor(() => !feed.status().connected, 5_000, 'the stream to drop');
    await feed.refresh('api'); // fails: the last members stay
    expect(usable()).toBe('a1');
    expect(feed.status().lastError).toBeTruthy();
  });
});
