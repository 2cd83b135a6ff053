import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { icmpCheck } from '../../src/checks/icmp.js';
import type { CheckRunner } from '../../src/core/check.js';
import { openFds, settleFds } from '../helpers/fds.js';
import { attempt, checkDeps } from '../helpers/run-check.js';
import { icmpSpec, type IcmpInput } from '../helpers/spec.js';
import { waitUntil } from '../helpers/spawn.js';

/**
 * icmp check with the real iputils ping, on loopback only (127.0.0.1, ::1).
 * Loss cases are covered by parser tests on captured outputs
 * (test/checks/icmp.test.ts). A missing ping fails these tests.
 */

const runners: CheckRunner[] = [];
afterEach(async () => {
  while (runners.length > 0) await runners.pop()?.close?.();
});

function runner(input: IcmpInput, address?: string, timeoutMs?: number): CheckRunner {
  const r = icmpCheck(icmpSpec(input, address, timeoutMs), checkDeps());
  runners.push(r);
  return r;
}

/** Pids of this process' children whose command is `ping`. */
function pingChildren(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (comm === 'ping' && ppid === process.pid) pids.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

function exists(pid: number): boolean {
  try {
    readFileSync(`/proc/${pid}/stat`);
    return true;
  } catch {
    return false;
  }
}

describe('icmp check with iputils ping', () => {
  it('has ping installed (fails, never skips, when it is missing)', () => {
    expect(() => execFileSync('ping', ['-V'], { stdio: 'ignore' }), 'ping (apt install iputils-ping)').not.toThrow();
  });

  it('pings the instance host 127.0.0.1: HEALTHY with rtt metrics', async () => {
    const baseline = openFds();
    const r = await attempt(runner({ count: 3, packet_interval: '20ms' }), 5000);
    expect(r).toMatchObject({
      status: 'HEALTHY',
      reason: 'ok',
      metrics: { packets_transmitted: 3, packets_received: 3, packet_loss: 0 },
    });
    expect(r.output).toMatch(/^3\/3 replies from 127\.0\.0\.1, 0% loss, rtt avg [\d.]+ ms/);
    for (const k of ['rtt_min_ms', 'rtt_avg_ms', 'rtt_max_ms', 'rtt_mdev_ms']) {
      expect(r.metrics?.[k]).toBeGreaterThanOrEqual(0);
      expect(r.metrics?.[k]).toBeLessThan(1000);
    }
    expect(await settleFds(baseline)).toBeLessThanOrEqual(baseline);
  });

  it('pings ::1 over IPv6 when the host is an IPv6 literal', async () => {
    const r = await attempt(runner({ host: '::1', count: 2, packet_interval: '20ms' }, '[::1]:80'), 5000);
    expect(r).toMatchObject({ status: 'HEALTHY', metrics: { packets_received: 2 } });
    expect(r.output).toContain('from ::1');
  });

  it('is DEGRADED when the rtt is over rtt_warn (0 ms: any reply is over)', async () => {
    const r = await attempt(runner({ count: 1, rtt_warn: 0 }), 5000);
    expect(r).toMatchObject({ status: 'DEGRADED', reason: 'threshold_warning' });
  });

  it('an abort mid-ping returns timeout at once and the ping process is gone', async () => {
    const baseline = openFds();
    const before = new Set(pingChildren());
    // 50 packets 200 ms apart: ~10 s of ping, aborted after 700 ms.
    const pending = attempt(runner({ count: 50, packet_interval: '200ms' }, undefined, 20_000), 700);
    let pid: number | undefined;
    await waitUntil(
      () => {
        pid = pingChildren().find((p) => !before.has(p));
        return pid !== undefined;
      },
      2000,
      10,
    );
    expect(pid, 'a ping child process while the check runs').toBeDefined();
    const r = await pending;
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'timeout' });
    expect(r.elapsedMs).toBeLessThan(700 + 400);
    // ping dies on SIGTERM; the grace is 500 ms, give it a second more.
    expect(await waitUntil(() => !exists(pid as number), 1500, 10)).toBe(true);
    expect(await settleFds(baseline)).toBeLessThanOrEqual(baseline);
  }, 15_000);
});
