/**
 * Remediation: a rule's `exec` action runs when its alert fires (and on
 * reminders while it keeps firing), at most once per `min_interval` per
 * alert, with a timeout; the outcome (exit code, time, the start of its
 * output) goes on the alert's timeline. Processes are handled by the exec
 * check's ProcessGroups: own process group, capped output, SIGTERM then
 * SIGKILL of the whole group at the timeout.
 */
import { basename } from 'node:path';
import { commandEnv } from '../checks/exec.js';
import { ProcessGroups, spawnOptions, type CommandEnd } from '../checks/process.js';
import type { Clock } from '../core/clock.js';
import type { CompiledRule } from './rules.js';
import type { AlertJournal } from './timeline.js';
import type { AlertRecord } from './types.js';

/** Time between SIGTERM and SIGKILL of a remediation that outlives its timeout, ms. */
const KILL_GRACE_MS = 2_000;
/** Output characters kept on the timeline. */
const OUTPUT_KEPT = 2_000;

/** Runs rules' exec actions. */
export class Remediation {
  private readonly groups = new ProcessGroups();
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly clock: Clock,
    private readonly journal: AlertJournal,
  ) {}

  /** The alert fired (or is reminded): run its rule's action unless one ran within min_interval. */
  run(record: AlertRecord, rule: CompiledRule): void {
    const action = rule.config.exec;
    if (!action) return;
    const now = this.clock.now();
    if (record.lastRemediationAt !== null && now - record.lastRemediationAt < action.min_interval) {
      this.journal.note(record, {
        at: now,
        type: 'remediation',
        detail: `skipped: ran ${Math.round(now - record.lastRemediationAt)} ms ago (min_interval ${action.min_interval} ms)`,
      });
      return;
    }
    record.lastRemediationAt = now;
    const argv = action.command.map((a) =>
      a.replace(/\{\{\s*([A-Za-z_]\w*)\s*\}\}/g, (m, name: string) => (name === 'level' ? record.level : (record.labels[name] ?? m))),
    );
    const program = argv[0]!;
    this.journal.note(record, { at: now, type: 'remediation', detail: `started ${basename(program)}` });
    const ac = new AbortController();
    const timer = this.clock.setTimeout(() => ac.abort(), action.timeout);
    const done = this.groups
      .run(
        {
          file: program,
          args: argv.slice(1),
          options: spawnOptions(commandEnv(process.env, false, action.env)),
          maxStdoutBytes: action.max_output_bytes,
          maxStderrBytes: action.max_output_bytes,
          killGraceMs: KILL_GRACE_MS,
          armDelayMs: 0,
        },
        { signal: ac.signal, clock: this.clock },
      )
      .then((end) => {
        this.clock.clearTimeout(timer);
        this.journal.note(record, { at: this.clock.now(), type: 'remediation', detail: describeEnd(basename(program), end, action.timeout) });
      });
    this.running.add(done);
    void done.finally(() => this.running.delete(done));
  }

  /** Resolves when every started action has ended (tests). */
  async idle(): Promise<void> {
    await Promise.all([...this.running]);
  }

  /** Kill running actions and wait for them. */
  async close(): Promise<void> {
    await this.groups.close();
    await this.idle();
  }
}

function describeEnd(name: string, end: CommandEnd, timeoutMs: number): string {
  switch (end.type) {
    case 'exited': {
      const how = end.code !== null ? `exit ${end.code}` : `signal ${end.signal}`;
      return `${name} ${end.code === 0 ? 'succeeded' : 'failed'} (${how}, ${Math.round(end.elapsedMs)} ms)${output(end.stdout, end.stderr)}`;
    }
    case 'timeout':
      return `${name} timed out after ${timeoutMs} ms (killed)${output(end.stdout, end.stderr)}`;
    case 'spawn_failed':
      return `${name} could not start: ${end.error.code ?? end.error.message}`;
    default:
      return `${name} stopped: the daemon is stopping`;
  }
}

function output(stdout: Buffer, stderr: Buffer): string {
  const text = `${stdout.toString('utf8')}${stderr.length ? `${stdout.length ? '\n' : ''}${stderr.toString('utf8')}` : ''}`.trim();
  return text ? `: ${text.slice(0, OUTPUT_KEPT)}` : '';
}
