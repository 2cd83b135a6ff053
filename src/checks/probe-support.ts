import type { RunContext } from '../core/check.js';
import type { Clock, TimerHandle } from '../core/clock.js';

/**
 * What the network and process checks share: the lazily armed AbortSignal
 * listener, `host:port` parsing and printing, and how a duration reads in an
 * output text. Kept free of per-probe allocations: the probes that use it are
 * benchmarked in CPU per probe.
 */

/**
 * How long a probe runs before it subscribes to its AbortSignal, in ms:
 * at most 20 ms and well before the attempt timeout, so an abort at the
 * timeout is always seen at once. An abort that comes earlier than this
 * (check removed, scheduler stopped) is seen at most this late.
 */
export function armDelayMs(timeoutMs: number): number {
  return Math.min(20, timeoutMs / 4);
}

/**
 * Base of a probe that reads ctx.signal only once it has run for
 * armDelayMs, which most never do, so the scheduler rarely has to create
 * the run's AbortController. The probe is also the signal's listener
 * (`handleEvent`); it calls armLater() first in start() and disarm() when it
 * settles. `done` is true once settled.
 */
export abstract class LazyAbortProbe {
  protected done = false;
  protected readonly clock: Clock;
  /** When the run started, on ctx.clock (ms). */
  protected readonly t0: number;
  /** Timer that arms the abort listener; null once fired or cleared. */
  private armTimer: TimerHandle | null = null;
  /** The signal listened to, once armed. */
  private signal: AbortSignal | null = null;

  constructor(private readonly ctx: RunContext) {
    this.clock = ctx.clock;
    this.t0 = this.clock.now();
  }

  /** AbortSignal listener: the attempt timed out (or was cancelled). */
  abstract handleEvent(): void;

  /** Call first in start(): from `delayMs` (see armDelayMs) on, the probe listens to ctx.signal. */
  protected armLater(delayMs: number): void {
    this.armTimer = this.clock.setTimeout(() => this.arm(), delayMs);
  }

  /** The probe is still running: from now on react to the run's signal. */
  private arm(): void {
    this.armTimer = null;
    if (this.done) return;
    const signal = this.ctx.signal;
    if (signal.aborted) {
      this.handleEvent();
      return;
    }
    this.signal = signal;
    signal.addEventListener('abort', this);
  }

  /** Call when settling: drops the arm timer, or the abort listener once armed. */
  protected disarm(): void {
    if (this.armTimer !== null) {
      this.clock.clearTimeout(this.armTimer);
      this.armTimer = null;
    }
    if (this.signal !== null) this.signal.removeEventListener('abort', this);
  }
}

/** Where to connect, parsed from `host:port`, `[v6]:port` or a bare host. */
export interface HostPort {
  host: string;
  port: number | undefined;
}

/** Splits `host:port`, `[::1]:9000`, `[::1]`, `::1` or `host`. Throws on a bad port. */
export function parseHostPort(address: string): HostPort {
  let host: string;
  let portText: string | undefined;
  if (address.startsWith('[')) {
    const close = address.indexOf(']');
    if (close < 0) throw new Error(`bad address ${JSON.stringify(address)}: missing "]"`);
    host = address.slice(1, close);
    const rest = address.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) throw new Error(`bad address ${JSON.stringify(address)}`);
      portText = rest.slice(1);
    }
  } else {
    const first = address.indexOf(':');
    if (first >= 0 && first === address.lastIndexOf(':')) {
      host = address.slice(0, first);
      portText = address.slice(first + 1);
    } else {
      // No colon, or an unbracketed IPv6 literal: a host without port.
      host = address;
    }
  }
  if (host === '') throw new Error(`bad address ${JSON.stringify(address)}: empty host`);
  let port: number | undefined;
  if (portText !== undefined) {
    port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
    if (!(port >= 1 && port <= 65535)) throw new Error(`bad port in ${JSON.stringify(address)}`);
  }
  return { host, port };
}

/** `host:port`, with an IPv6 host in brackets (`[::1]:443`): for output texts and for Resolver.setServers. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A duration in ms as text: `12.3 ms` below 100 ms, whole ms above. */
export function formatMs(ms: number): string {
  return ms < 100 ? `${Math.round(ms * 10) / 10} ms` : `${Math.round(ms)} ms`;
}
