import { isIPv4, isIPv6 } from 'node:net';
import type { CheckFactory, CheckRunner, CheckSpec, RunContext } from '../core/check.js';
import { outcome, type ProbeOutcome, type Reason } from '../core/result.js';
import type { IcmpCheckConfig } from '../config/kinds/icmp.js';
import { describeError } from './errors.js';
import { ProcessGroups, spawnOptions, type CommandEnd, type CommandPlan } from './process.js';
import { armDelayMs, parseHostPort } from './probe-support.js';

/**
 * icmp check: the system `ping` (Debian iputils-ping: setuid-free, it holds
 * cap_net_raw or uses ping sockets) sends `count` echo requests; the summary
 * it prints is parsed into loss and round-trip times. ping runs like an exec
 * plugin (own process group, killed on abort, see process.ts), with LC_ALL=C
 * so its output is always the parseable English one.
 *
 * Judgement: every packet lost, or loss ≥ loss_critical → UNHEALTHY
 * `packet_loss`; loss ≥ loss_warn → DEGRADED `packet_loss`; otherwise average
 * rtt ≥ rtt_critical → UNHEALTHY `threshold_critical`, ≥ rtt_warn → DEGRADED
 * `threshold_warning`. A name that does not resolve → UNHEALTHY `dns`.
 *
 * The reply wait (-W) is shortened so that the whole ping fits in the check
 * timeout: a host that stops answering then reports `packet_loss`, not
 * `timeout`.
 */

/** Time kept free for ping's start and exit inside the check timeout, ms. */
const STARTUP_MARGIN_MS = 150;
/** Shortest reply wait handed to ping, ms. */
const MIN_WAIT_MS = 50;

/** Packet counts and round-trip times from one ping run. */
export interface PingSummary {
  transmitted: number;
  received: number;
  duplicates: number;
  /** ICMP errors reported back (unreachable…). */
  errors: number;
  /** Lost share, 0..1, from the counts (not the rounded percentage). */
  loss: number;
  /** Round-trip times in ms, absent when nothing came back. */
  rtt?: { min: number; avg: number; max: number; mdev: number };
}

/** A ping that printed no summary: why. */
export interface PingFailure {
  reason: Reason;
  message: string;
}

const STATS_RE = /(\d+) packets transmitted, (\d+) (?:packets )?received(?:, \+(\d+) duplicates)?(?:, \+(\d+) corrupted)?(?:, \+(\d+) errors)?/;
const RTT_RE = /(?:rtt|round-trip) min\/avg\/max(?:\/(?:mdev|stddev))? = ([\d.]+)\/([\d.]+)\/([\d.]+)(?:\/([\d.]+))? ms/;
const DNS_RE =
  /Name or service not known|Temporary failure in name resolution|No address associated with hostname|unknown host|Name has no usable address|bad address/i;
const UNREACHABLE_RE = /Network is unreachable|No route to host|Cannot assign requested address|Address family for hostname not supported/i;

/**
 * Reads ping's output (iputils, also BusyBox). Returns the summary, or the
 * cause when ping printed none (unknown host, no route, bad option).
 */
export function parsePingOutput(stdout: string, stderr: string): PingSummary | PingFailure {
  const stats = STATS_RE.exec(stdout);
  if (stats !== null) {
    const transmitted = Number(stats[1]);
    const received = Number(stats[2]);
    const summary: PingSummary = {
      transmitted,
      received,
      duplicates: Number(stats[3] ?? 0),
      errors: Number(stats[5] ?? 0),
      loss: transmitted > 0 ? Math.max(0, transmitted - received) / transmitted : 1,
    };
    const rtt = RTT_RE.exec(stdout);
    if (rtt !== null) {
      summary.rtt = { min: Number(rtt[1]), avg: Number(rtt[2]), max: Number(rtt[3]), mdev: Number(rtt[4] ?? 0) };
    }
    return summary;
  }
  const message = lastLine(stderr) || lastLine(stdout) || 'ping printed nothing';
  const text = `${stderr}\n${stdout}`;
  if (DNS_RE.test(text)) return { reason: 'dns', message };
  if (UNREACHABLE_RE.test(text)) return { reason: 'unreachable', message };
  return { reason: 'error', message };
}

function lastLine(s: string): string {
  const lines = s.trim().split('\n');
  return (lines[lines.length - 1] ?? '').trim();
}

/** Loss and rtt limits, rtt in ms. */
export interface IcmpThresholds {
  lossWarn: number;
  lossCritical: number;
  rttWarnMs: number | undefined;
  rttCriticalMs: number | undefined;
}

/** The result for a ping summary of `target` under the thresholds. Pure. */
export function judgePing(summary: PingSummary, target: string, t: IcmpThresholds): ProbeOutcome {
  const metrics: Record<string, number> = {
    packets_transmitted: summary.transmitted,
    packets_received: summary.received,
    packet_loss: summary.loss,
  };
  const rtt = summary.rtt;
  if (rtt !== undefined) {
    metrics.rtt_min_ms = rtt.min;
    metrics.rtt_avg_ms = rtt.avg;
    metrics.rtt_max_ms = rtt.max;
    metrics.rtt_mdev_ms = rtt.mdev;
  }
  const counts = `${summary.received}/${summary.transmitted} replies from ${target}, ${formatPct(summary.loss)} loss`;
  const text = rtt !== undefined ? `${counts}, rtt avg ${rtt.avg} ms (min ${rtt.min}, max ${rtt.max})` : counts;
  if (summary.transmitted === 0) return outcome.unhealthy('packet_loss', `no echo request sent to ${target}`, metrics);
  if (summary.received === 0) {
    const errors = summary.errors > 0 ? `, ${summary.errors} ICMP errors` : '';
    return outcome.unhealthy('packet_loss', `${counts} (all lost${errors})`, metrics);
  }
  if (summary.loss >= t.lossCritical) {
    return outcome.unhealthy('packet_loss', `${text}; loss at or over ${formatPct(t.lossCritical)}`, metrics);
  }
  if (summary.loss >= t.lossWarn) {
    return outcome.degraded('packet_loss', `${text}; loss at or over ${formatPct(t.lossWarn)}`, metrics);
  }
  if (rtt !== undefined && t.rttCriticalMs !== undefined && rtt.avg >= t.rttCriticalMs) {
    return outcome.unhealthy('threshold_critical', `${text}; rtt at or over ${t.rttCriticalMs} ms`, metrics);
  }
  if (rtt !== undefined && t.rttWarnMs !== undefined && rtt.avg >= t.rttWarnMs) {
    return outcome.degraded('threshold_warning', `${text}; rtt at or over ${t.rttWarnMs} ms`, metrics);
  }
  return outcome.healthy(text, metrics);
}

function formatPct(share: number): string {
  return `${Math.round(share * 1000) / 10}%`;
}

/** What one icmp check needs per run. */
interface IcmpPlan {
  command: CommandPlan;
  target: string;
  thresholds: IcmpThresholds;
}

/** Builds an icmp runner (throws for a config it cannot run); close() kills a ping still running. */
export const icmpCheck: CheckFactory<IcmpCheckConfig> = (spec) => new IcmpCheckRunner(compilePlan(spec));

/** ping's arguments for a config, the reply wait fitted into `timeoutMs`. */
export function pingArgs(c: IcmpCheckConfig, host: string, timeoutMs: number): string[] {
  const sendMs = (c.count - 1) * c.packet_interval;
  const room = timeoutMs - sendMs - STARTUP_MARGIN_MS;
  const waitMs = Math.max(MIN_WAIT_MS, Math.min(c.packet_timeout, room));
  const args = ['-n', '-c', String(c.count), '-i', seconds(c.packet_interval), '-W', seconds(waitMs)];
  const family = c.family === 'auto' ? (isIPv6(host) ? 'ipv6' : isIPv4(host) ? 'ipv4' : 'auto') : c.family;
  if (family === 'ipv6') args.push('-6');
  else if (family === 'ipv4') args.push('-4');
  // `--` keeps a host from being read as an option (the schema already refuses a leading "-").
  args.push('--', host);
  return args;
}

function seconds(ms: number): string {
  return String(Math.round(ms) / 1000);
}

function compilePlan(spec: CheckSpec<IcmpCheckConfig>): IcmpPlan {
  const c = spec.config;
  const host = c.host ?? parseHostPort(spec.address).host;
  if (host.startsWith('-')) throw new Error(`bad host ${JSON.stringify(host)}`);
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' };
  return {
    command: {
      file: 'ping',
      args: pingArgs(c, host, spec.timeoutMs),
      options: spawnOptions(env),
      maxStdoutBytes: 16 * 1024 + 128 * c.count,
      maxStderrBytes: 4096,
      killGraceMs: 500,
      armDelayMs: armDelayMs(spec.timeoutMs),
    },
    target: host,
    thresholds: {
      lossWarn: c.loss_warn,
      lossCritical: c.loss_critical,
      rttWarnMs: c.rtt_warn,
      rttCriticalMs: c.rtt_critical,
    },
  };
}

class IcmpCheckRunner implements CheckRunner {
  private readonly groups = new ProcessGroups();
  private readonly judge: (end: CommandEnd) => ProbeOutcome;

  constructor(private readonly plan: IcmpPlan) {
    this.judge = (end) => judgeEnd(plan, end);
  }

  run(ctx: RunContext): Promise<ProbeOutcome> {
    return this.groups.run(this.plan.command, ctx).then(this.judge, (err: unknown) => outcome.unknown('exec_failed', `ping failed: ${describeError(err)}`));
  }

  close(): Promise<void> {
    return this.groups.close();
  }
}

function judgeEnd(plan: IcmpPlan, end: CommandEnd): ProbeOutcome {
  switch (end.type) {
    case 'spawn_failed':
      return outcome.unknown(
        'exec_failed',
        end.error.code === 'ENOENT' ? 'cannot run ping: not found in PATH (install iputils-ping)' : `cannot run ping: ${describeError(end.error)}`,
      );
    case 'closed':
      return outcome.unknown('aborted', `ping ${plan.target}: check closed while ping ran`);
    case 'timeout':
      return outcome.unhealthy('timeout', `ping ${plan.target} timed out after ${Math.round(end.elapsedMs)} ms`);
    case 'exited': {
      if (end.code === null) return outcome.unknown('exec_failed', `ping killed by ${end.signal ?? 'a signal'}`);
      const parsed = parsePingOutput(end.stdout.toString('latin1'), end.stderr.toString('latin1'));
      if ('reason' in parsed) {
        const status = parsed.reason === 'error' ? 'UNKNOWN' : 'UNHEALTHY';
        return { status, reason: parsed.reason, output: `ping ${plan.target}: ${parsed.message}`.slice(0, 300) };
      }
      return judgePing(parsed, plan.target, plan.thresholds);
    }
  }
}
