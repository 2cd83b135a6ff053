import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { RunContext } from '../core/check.js';
import type { TimerHandle } from '../core/clock.js';
import { LazyAbortProbe } from './probe-support.js';

/**
 * Child processes for the checks that run programs (exec, icmp): spawn in a
 * process group of its own, collect capped stdout/stderr, and on timeout or
 * close kill the whole group — SIGTERM, then SIGKILL after a grace — so a
 * plugin that ignores SIGTERM or forks helpers leaves nothing behind.
 *
 * The result of a timed-out run is given at once; the kill sequence goes on
 * in the background and `ProcessGroups.close()` waits for every one.
 *
 * A kill sequence is over when the group leader has been reaped and either
 * the group is empty or SIGKILL went to it (the kernel then ends the rest at
 * once). Members orphaned by the leader's death are reaped by init, not by
 * us; until then they are zombies that run nothing. When a command exits
 * normally but left members in its group (a background child holding the
 * pipes, say), those get the same SIGTERM/SIGKILL sequence.
 *
 * Like the tcp and http probes, a run looks at ctx.signal only after
 * `armDelayMs`.
 *
 * Process groups are addressed by the leader's pid. Linux does not reuse a
 * pid while a group of that id has members, so signalling the group is safe
 * until the last member is gone; after that the grace timer is cleared, or
 * fires at most once into a group that could only be reused after a full pid
 * wrap-around within the grace.
 */

/** How to run one program; built once per check and shared by its runs. */
export interface CommandPlan {
  /** Program path or name (looked up in `options.env.PATH`). */
  file: string;
  args: readonly string[];
  /** Spawn options; `detached` and `stdio` are set by `spawnOptions()`. Only read by spawn. */
  options: SpawnOptions;
  /** Stdout bytes kept; the rest is read and dropped so the child never blocks on a full pipe. */
  maxStdoutBytes: number;
  /** Stderr bytes kept, same rule. */
  maxStderrBytes: number;
  /** Time between SIGTERM and SIGKILL to the process group, ms. */
  killGraceMs: number;
  /**
   * How long a run goes before it listens to ctx.signal, ms (keep it under a
   * quarter of the timeout). Most plugins are done sooner, so the scheduler
   * never creates their AbortController.
   */
  armDelayMs: number;
}

/** How a run of a command ended. */
export type CommandEnd =
  | {
      type: 'exited';
      /** Exit code, or null when a signal ended the process. */
      code: number | null;
      signal: NodeJS.Signals | null;
      /** First `maxStdoutBytes` of stdout. */
      stdout: Buffer;
      /** Stdout bytes the child wrote in all (kept or not). */
      stdoutBytes: number;
      stderr: Buffer;
      /** Wall time from spawn to the end of output, ms (from the run's Clock). */
      elapsedMs: number;
    }
  | { type: 'spawn_failed'; error: NodeJS.ErrnoException }
  /** The run's AbortSignal fired; the process group is being killed. */
  | { type: 'timeout'; stdout: Buffer; stderr: Buffer; elapsedMs: number }
  /** ProcessGroups.close() ended the run. */
  | { type: 'closed' };

/** Spawn options for a plan: own process group, no stdin, piped output. */
export function spawnOptions(env: NodeJS.ProcessEnv, cwd?: string): SpawnOptions {
  const options: SpawnOptions = { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env, windowsHide: true };
  if (cwd !== undefined) options.cwd = cwd;
  return options;
}

/**
 * Sends `signal` to process group `pgid`. False when the group has no member
 * left (ESRCH); signal 0 only tests that.
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * The running commands of one check. `run` never rejects; `close` ends
 * running commands and resolves once every kill sequence has finished.
 */
export class ProcessGroups {
  /** Runs that have not finished: still running, or their group still being killed. */
  private readonly live = new Set<CommandRun>();
  private closed = false;

  /** Runs `plan` once; ends early with `timeout` when ctx.signal aborts. */
  run(plan: CommandPlan, ctx: RunContext): Promise<CommandEnd> {
    if (this.closed) return Promise.resolve(CLOSED);
    return new Promise<CommandEnd>((resolve) => {
      new CommandRun(plan, ctx, resolve, this.live).start();
    });
  }

  /** Number of commands running or being killed (for tests and diagnostics). */
  get size(): number {
    return this.live.size;
  }

  /** Ends every running command (result `closed`) and waits until each kill sequence is over. */
  async close(): Promise<void> {
    this.closed = true;
    const waits: Promise<void>[] = [];
    for (const run of this.live) waits.push(run.cancel());
    await Promise.all(waits);
  }
}

const EMPTY = Buffer.alloc(0);
function ignore(): void {}
const CLOSED: CommandEnd = { type: 'closed' };

/** One spawned command; also the listener of the run's AbortSignal. */
class CommandRun extends LazyAbortProbe {
  private child: ChildProcess | null = null;
  private pid = 0;
  /** The group leader exited (reaped by Node). */
  private exited = false;
  private code: number | null = null;
  private exitSignal: NodeJS.Signals | null = null;
  /** A kill sequence started. */
  private killing = false;
  private killSent = false;
  private graceTimer: TimerHandle | undefined;
  /** Settles once the run is over and its group is gone; waiters from close(). */
  private finished = false;
  private waiters: (() => void)[] = [];

  private out: Buffer[] = [];
  private outKept = 0;
  private outBytes = 0;
  private err: Buffer[] = [];
  private errKept = 0;

  constructor(
    private readonly plan: CommandPlan,
    ctx: RunContext,
    private readonly resolve: (end: CommandEnd) => void,
    private readonly live: Set<CommandRun>,
  ) {
    super(ctx);
  }

  start(): void {
    const plan = this.plan;
    let child: ChildProcess;
    try {
      child = spawn(plan.file, plan.args, plan.options);
    } catch (err) {
      // Bad arguments (e.g. an invalid cwd type) throw synchronously.
      this.settle({ type: 'spawn_failed', error: err as NodeJS.ErrnoException });
      this.finish();
      return;
    }
    this.child = child;
    this.live.add(this);
    child.on('error', this.onError);
    if (child.pid === undefined) return; // ENOENT, EACCES…: 'error' follows on the next tick.
    this.pid = child.pid;
    this.armLater(this.plan.armDelayMs);
    // A pipe error must never become an uncaught exception; 'close' still follows.
    (child.stdout as Readable).on('data', this.onStdout).on('error', ignore);
    (child.stderr as Readable).on('data', this.onStderr).on('error', ignore);
    child.on('exit', this.onExit);
    child.on('close', this.onClose);
  }

  /** AbortSignal listener: the attempt timed out. */
  override handleEvent(): void {
    if (this.done) return;
    this.settle({ type: 'timeout', stdout: this.stdout(), stderr: this.stderr(), elapsedMs: this.clock.now() - this.t0 });
    this.stopReading();
    this.terminate();
  }

  /** ProcessGroups.close(): end the run now and wait until its group is gone. */
  cancel(): Promise<void> {
    if (!this.done) {
      this.settle(CLOSED);
      this.stopReading();
    }
    this.terminate();
    return new Promise((r) => (this.finished ? r() : this.waiters.push(r)));
  }

  private readonly onStdout = (chunk: Buffer): void => {
    this.outBytes += chunk.length;
    const room = this.plan.maxStdoutBytes - this.outKept;
    if (room <= 0) return;
    const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
    this.out.push(part);
    this.outKept += part.length;
  };

  private readonly onStderr = (chunk: Buffer): void => {
    const room = this.plan.maxStderrBytes - this.errKept;
    if (room <= 0) return;
    const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
    this.err.push(part);
    this.errKept += part.length;
  };

  private readonly onError = (err: Error): void => {
    if (this.pid === 0) {
      // The program never started.
      this.settle({ type: 'spawn_failed', error: err as NodeJS.ErrnoException });
      this.finish();
    }
    // With a pid, an error comes from kill() or the pipes; 'exit'/'close' still follow.
  };

  private readonly onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
    this.exited = true;
    this.code = code;
    this.exitSignal = signal;
    if (this.killing) {
      this.maybeKilled();
    } else if (signalGroup(this.pid, 0)) {
      // The leader is gone but something it started is still in its group
      // (and may hold the pipes open): clean up like at a timeout.
      this.terminate();
    }
  };

  /** Leader exited and every pipe closed. */
  private readonly onClose = (): void => {
    if (!this.done) {
      this.settle({
        type: 'exited',
        code: this.code,
        signal: this.exitSignal,
        stdout: this.stdout(),
        stdoutBytes: this.outBytes,
        stderr: this.stderr(),
        elapsedMs: this.clock.now() - this.t0,
      });
    }
    if (!this.killing) this.finish();
    else this.maybeKilled();
  };

  private readonly onGrace = (): void => {
    this.graceTimer = undefined;
    signalGroup(this.pid, 'SIGKILL');
    this.killSent = true;
    this.maybeKilled();
  };

  /** SIGTERM to the group now, SIGKILL after the grace. Idempotent. */
  private terminate(): void {
    if (this.killing || this.pid === 0 || this.finished) return;
    this.killing = true;
    if (!signalGroup(this.pid, 'SIGTERM') && this.exited) {
      // Nothing left to kill.
      this.killSent = true;
      this.maybeKilled();
      return;
    }
    if (this.plan.killGraceMs <= 0) this.onGrace();
    else this.graceTimer = this.clock.setTimeout(this.onGrace, this.plan.killGraceMs);
  }

  /** The kill sequence is over once the leader was reaped and SIGKILL went out (or the group is empty). */
  private maybeKilled(): void {
    if (this.finished || !this.exited) return;
    if (!this.killSent && signalGroup(this.pid, 0)) return; // members left: the grace timer will SIGKILL them
    if (this.graceTimer !== undefined) {
      this.clock.clearTimeout(this.graceTimer);
      this.graceTimer = undefined;
    }
    // After a timeout the pipes were destroyed; 'close' may not have come yet but nothing is left to read.
    if (this.done) this.finish();
  }

  private settle(end: CommandEnd): void {
    if (this.done) return;
    this.done = true;
    this.disarm();
    this.resolve(end);
  }

  /** Close our ends of the pipes: nothing more is wanted from a timed-out command. */
  private stopReading(): void {
    const child = this.child;
    if (child === null) return;
    child.stdout?.destroy();
    child.stderr?.destroy();
    this.out = [];
    this.err = [];
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.live.delete(this);
    this.child = null;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private stdout(): Buffer {
    const out = this.out;
    return out.length === 0 ? EMPTY : out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out, this.outKept);
  }

  private stderr(): Buffer {
    const err = this.err;
    return err.length === 0 ? EMPTY : err.length === 1 ? (err[0] as Buffer) : Buffer.concat(err, this.errKept);
  }
}
