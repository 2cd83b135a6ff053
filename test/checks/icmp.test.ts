import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { judgePing, parsePingOutput, pingArgs, type IcmpThresholds, type PingSummary } from '../../src/checks/icmp.js';
import { icmpCheckSchema } from '../../src/config/kinds/icmp.js';

/** Parser and judgement of the icmp check on real ping outputs (test/fixtures/ping/README.md). */

const FIXTURES = fileURLToPath(new URL('../fixtures/ping/', import.meta.url));

function fixture(name: string): { stdout: string; stderr: string } {
  const read = (suffix: string): string => {
    const path = `${FIXTURES}${name}.${suffix}.txt`;
    return existsSync(path) ? readFileSync(path, 'latin1') : '';
  };
  return { stdout: read('stdout'), stderr: read('stderr') };
}

function parse(name: string): ReturnType<typeof parsePingOutput> {
  const { stdout, stderr } = fixture(name);
  return parsePingOutput(stdout, stderr);
}

const defaults: IcmpThresholds = { lossWarn: 0.2, lossCritical: 0.6, rttWarnMs: undefined, rttCriticalMs: undefined };

function judged(name: string, t: IcmpThresholds = defaults) {
  const summary = parse(name);
  if ('reason' in summary) throw new Error(`fixture ${name} has no summary`);
  return judgePing(summary, 'target', t);
}

describe('ping output parser', () => {
  it('reads counts and rtt of a ping with no loss', () => {
    expect(parse('loss-0')).toEqual({
      transmitted: 3,
      received: 3,
      duplicates: 0,
      errors: 0,
      loss: 0,
      rtt: { min: 0.042, avg: 0.046, max: 0.051, mdev: 0.003 },
    });
    expect(parse('ipv6-loss-0')).toMatchObject({ transmitted: 3, received: 3, rtt: { avg: 0.042 } });
  });

  it('computes the loss share from the counts, not the rounded percentage', () => {
    expect(parse('loss-33')).toMatchObject({ transmitted: 3, received: 2, loss: 1 / 3, rtt: { avg: 0.054 } });
    expect(parse('loss-67')).toMatchObject({ transmitted: 3, received: 1, loss: 2 / 3 });
  });

  it('has no rtt when every packet was lost', () => {
    const s = parse('loss-100') as PingSummary;
    expect(s).toMatchObject({ transmitted: 3, received: 0, loss: 1 });
    expect(s.rtt).toBeUndefined();
  });

  it('reads duplicates and ICMP errors when ping reports them', () => {
    const text = '--- 10.0.0.9 ping statistics ---\n5 packets transmitted, 2 received, +1 duplicates, +3 errors, 60% packet loss, time 4005ms\n';
    expect(parsePingOutput(text, '')).toMatchObject({ transmitted: 5, received: 2, duplicates: 1, errors: 3, loss: 0.6 });
  });

  it('reads BusyBox ping output too', () => {
    const text =
      '--- 127.0.0.1 ping statistics ---\n3 packets transmitted, 3 packets received, 0% packet loss\nround-trip min/avg/max = 0.061/0.074/0.087 ms\n';
    expect(parsePingOutput(text, '')).toMatchObject({ received: 3, rtt: { min: 0.061, avg: 0.074, max: 0.087, mdev: 0 } });
  });

  it('reports an unknown host as dns', () => {
    expect(parse('unknown-host')).toEqual({
      reason: 'dns',
      message: 'ping: no-such-host.invalid: Name or service not known',
    });
    expect(parsePingOutput('', 'ping: db: Temporary failure in name resolution\n')).toMatchObject({ reason: 'dns' });
  });

  it('reports no route and a down network as unreachable', () => {
    expect(parse('no-route')).toEqual({ reason: 'unreachable', message: 'ping: connect: No route to host' });
    expect(parse('net-unreachable')).toEqual({ reason: 'unreachable', message: 'ping: connect: Network is unreachable' });
  });

  it('reports anything else without a summary as error with the last line', () => {
    expect(parsePingOutput('', 'ping: socket: Operation not permitted\n')).toEqual({
      reason: 'error',
      message: 'ping: socket: Operation not permitted',
    });
    expect(parsePingOutput('', '')).toEqual({ reason: 'error', message: 'ping printed nothing' });
  });
});

describe('ping judgement', () => {
  it('is HEALTHY with rtt metrics at 0% loss', () => {
    expect(judged('loss-0')).toEqual({
      status: 'HEALTHY',
      reason: 'ok',
      output: '3/3 replies from target, 0% loss, rtt avg 0.046 ms (min 0.042, max 0.051)',
      metrics: {
        packets_transmitted: 3,
        packets_received: 3,
        packet_loss: 0,
        rtt_min_ms: 0.042,
        rtt_avg_ms: 0.046,
        rtt_max_ms: 0.051,
        rtt_mdev_ms: 0.003,
      },
    });
  });

  it('is DEGRADED packet_loss at 33% (over loss_warn 20%), UNHEALTHY at 67% (over loss_critical 60%)', () => {
    expect(judged('loss-33')).toMatchObject({ status: 'DEGRADED', reason: 'packet_loss' });
    expect(judged('loss-33').output).toContain('2/3 replies from target, 33.3% loss');
    expect(judged('loss-67')).toMatchObject({ status: 'UNHEALTHY', reason: 'packet_loss' });
  });

  it('is UNHEALTHY packet_loss when every packet is lost, even with loss_critical 1', () => {
    const r = judged('loss-100', { ...defaults, lossWarn: 1, lossCritical: 1 });
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'packet_loss', metrics: { packet_loss: 1, packets_received: 0 } });
    expect(r.output).toBe('0/3 replies from target, 100% loss (all lost)');
    expect(r.metrics?.rtt_avg_ms).toBeUndefined();
  });

  it('follows the configured loss thresholds', () => {
    expect(judged('loss-33', { ...defaults, lossWarn: 0.5, lossCritical: 0.9 }).status).toBe('HEALTHY');
    expect(judged('loss-33', { ...defaults, lossWarn: 0.1, lossCritical: 0.3 }).status).toBe('UNHEALTHY');
  });

  it('judges the average rtt against rtt_warn and rtt_critical', () => {
    expect(judged('loss-0', { ...defaults, rttWarnMs: 0.04 })).toMatchObject({ status: 'DEGRADED', reason: 'threshold_warning' });
    expect(judged('loss-0', { ...defaults, rttWarnMs: 0.01, rttCriticalMs: 0.045 })).toMatchObject({
      status: 'UNHEALTHY',
      reason: 'threshold_critical',
    });
    expect(judged('loss-0', { ...defaults, rttWarnMs: 1, rttCriticalMs: 2 }).status).toBe('HEALTHY');
  });

  it('puts loss before rtt', () => {
    expect(judged('loss-33', { ...defaults, rttCriticalMs: 0.001 })).toMatchObject({ reason: 'packet_loss' });
  });
});

describe('ping arguments', () => {
  const cfg = (input: Record<string, unknown> = {}) => icmpCheckSchema.parse({ kind: 'icmp', ...input });

  it('passes count, interval and reply wait in seconds, numeric output, the family of an IP literal', () => {
    expect(pingArgs(cfg(), '127.0.0.1', 5000)).toEqual(['-n', '-c', '3', '-i', '0.2', '-W', '1', '-4', '--', '127.0.0.1']);
    expect(pingArgs(cfg(), '::1', 5000)).toEqual(['-n', '-c', '3', '-i', '0.2', '-W', '1', '-6', '--', '::1']);
    expect(pingArgs(cfg(), 'db.internal', 5000)).toEqual(['-n', '-c', '3', '-i', '0.2', '-W', '1', '--', 'db.internal']);
    expect(pingArgs(cfg({ family: 'ipv6' }), 'db.internal', 5000)).toContain('-6');
  });

  it('shortens the reply wait so the whole ping fits in the check timeout', () => {
    // 3 packets 200 ms apart = 400 ms of sending; a 1 s timeout leaves 450 ms after the 150 ms margin.
    expect(pingArgs(cfg(), '127.0.0.1', 1000)).toContain('0.45');
    expect(pingArgs(cfg({ count: 5, packet_interval: '10ms', packet_timeout: '300ms' }), 'h', 2000)).toEqual(
      expect.arrayContaining(['-c', '5', '-i', '0.01', '-W', '0.3']),
    );
  });

  it('refuses bad settings with the field named', () => {
    const bad = (input: Record<string, unknown>) => icmpCheckSchema.safeParse({ kind: 'icmp', ...input }).error?.issues[0]?.path;
    expect(bad({ packet_interval: '1ms' })).toEqual(['packet_interval']);
    expect(bad({ loss_warn: 0.7, loss_critical: 0.5 })).toEqual(['loss_warn']);
    expect(bad({ rtt_warn: '2s', rtt_critical: '1s' })).toEqual(['rtt_warn']);
    expect(bad({ host: '-f' })).toEqual(['host']);
    expect(bad({ count: 0 })).toEqual(['count']);
  });
});
