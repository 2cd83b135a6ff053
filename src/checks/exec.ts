import { basename } from 'node:path';
import type { CheckFactory, CheckRunner, CheckSpec, RunContext } from '../core/check.js';
import { outcome, type ProbeOutcome } from '../core/result.js';
import type { ExecCheckConfig } from '../config/kinds/exec.js';
import { describeError } from './errors.js';
import { parsePluginOutput, perfMetrics, statusOfExitCode } from './nagios.js';
import { ProcessGroups, spawnOptions, type CommandEnd, type CommandPlan } from './process.js';
import { armDelayMs, formatMs, parseHostPort } from './probe-support.js';

/**
 * exec check: run a program that follows the Nagios plugin protocol (exit
 * 0/1/2/3, first stdout line as text, perfdata after `|`) — Debian's
 * monitoring-plugins, or any script.
 *
 * The program runs without a shell unless `shell: true`, in a process group
 * of its own, with stdin closed and a small environment (PATH, HOME, LANG
 * and `env`) unless `inherit_env`. At the timeout the run returns `timeout`
 * at once and the group gets SIGTERM, then SIGKILL after `kill_grace`;
 * close() waits for those kill sequences. Everything that does not depend on
 * the run (argv with placeholders filled, environment, spawn options) is
 * computed once in the factory.
 */

/** Stderr kept per run: enough for an error message when stdout is empty. */
const MAX_STDERR_BYTES = 4096;
/** Longest output line returned. */
const MAX_OUTPUT_CHARS = 512;
const PLACEHOLDER_RE = /\{\{\s*([A-Za-z_]\w*)\s*\}\}/g;

/** What one exec check needs per run. */
interface ExecPlan {
  command: CommandPlan;
  /** Program name for messages (`check_tcp`, `sh -c`). */
  name: string;
  cwd: string | undefined;
}

/**
 * Builds an exec runner (throws for a placeholder it cannot fill); close()
 * kills a command still running and waits for its group to go.
 */
export const execCheck: CheckFactory<ExecCheckConfig> = (spec) => new ExecCheckRunner(compilePlan(spec));

/** The environment a command gets: PATH, HOME and LANG (or everything), then `env` over it. */
export function commandEnv(parent: NodeJS.ProcessEnv, inherit: boolean, extra: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  if (inherit) {
    Object.assign(env, parent);
  } else {
    env.PATH = parent.PATH ?? '/usr/local/bin:/usr/bin:/bin';
    if (parent.HOME !== undefined) env.HOME = parent.HOME;
    if (parent.LANG !== undefined) env.LANG = parent.LANG;
  }
  return Object.assign(env, extra);
}

/** A value for /bin/sh, quoted only when it holds characters the shell would interpret. */
function shellWord(value: string): string {
  return /^[A-Za-z0-9_.:/@%+=,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * Fills `{{address}}`, `{{host}}` and `{{port}}` in each argument. Throws on
 * an unknown placeholder, or on `{{port}}` when the address has none.
 */
export function fillPlaceholders(argv: readonly string[], address: string, quoteForShell: boolean): string[] {
  if (!argv.some((a) => a.includes('{{'))) return [...argv];
  let parts: { host: string; port: number | undefined } | undefined;
  const lookup = (name: string): string => {
    if (name === 'address') return address;
    if (name !== 'host' && name !== 'port') {
      throw new Error(`unknown placeholder {{${name}}} (use {{address}}, {{host}} or {{port}})`);
    }
    parts ??= parseHostPort(address);
    if (name === 'host') return parts.host;
    if (parts.port === undefined) throw new Error(`{{port}} used but the address ${JSON.stringify(address)} has no port`);
    return String(parts.port);
  };
  return argv.map((arg) =>
    arg.replace(PLACEHOLDER_RE, (_m, name: string) => {
      const value = lookup(name);
      return quoteForShell ? shellWord(value) : value;
    }),
  );
}

function compilePlan(spec: CheckSpec<ExecCheckConfig>): ExecPlan {
  const c = spec.config;
  const argv = fillPlaceholders(c.command, spec.address, c.shell);
  const program = argv[0] as string;
  const env = commandEnv(process.env, c.inherit_env, c.env);
  return {
    command: {
      file: c.shell ? '/bin/sh' : program,
      args: c.shell ? ['-c', program] : argv.slice(1),
      options: spawnOptions(env, c.cwd),
      maxStdoutBytes: c.max_output_bytes,
      maxStderrBytes: MAX_STDERR_BYTES,
      killGraceMs: c.kill_grace,
      armDelayMs: armDelayMs(spec.timeoutMs),
    },
    name: c.shell ? 'sh -c' : basename(program),
    cwd: c.cwd,
  };
}

class ExecCheckRunner implements CheckRunner {
  private readonly groups = new ProcessGroups();
  private readonly judge: (end: CommandEnd) => ProbeOutcome;

  constructor(private readonly plan: ExecPlan) {
    this.judge = (end) => judgeExec(plan, end);
  }

  run(ctx: RunContext): Promise<ProbeOutcome> {
    return this.groups.run(this.plan.command, ctx).then(this.judge, failed);
  }

  close(): Promise<void> {
    return this.groups.close();
  }
}

function failed(err: unknown): ProbeOutcome {
  return outcome.unknown('exec_failed', `exec failed: ${describeError(err)}`);
}

/** Turns how the command ended into a result. Pure; never throws on odd output. */
function judgeExec(plan: ExecPlan, end: CommandEnd): ProbeOutcome {
  switch (end.type) {
    case 'spawn_failed':
      return outcome.unknown('exec_failed', spawnFailure(plan, end.error));
    case 'closed':
      return outcome.unknown('aborted', `${plan.name}: check closed while the command ran`);
    case 'timeout': {
      const grace = plan.command.killGraceMs;
      const partial = firstLine(end.stdout);
      return outcome.unhealthy(
        'timeout',
        clip(
          `${plan.name} timed out after ${formatMs(end.elapsedMs)}; SIGTERM sent to its process group` +
            (grace > 0 ? ` (SIGKILL after ${formatMs(grace)} if still alive)` : ' and SIGKILL') +
            (partial !== '' ? `; output so far: ${partial}` : ''),
        ),
      );
    }
    case 'exited':
      return judgeExit(plan, end);
  }
}

function judgeExit(plan: ExecPlan, end: Extract<CommandEnd, { type: 'exited' }>): ProbeOutcome {
  const truncated = end.stdoutBytes > end.stdout.length;
  let text = end.stdout.toString('utf8');
  // A cut-off last line could hold a cut-off number: drop it.
  if (truncated) {
    const nl = text.lastIndexOf('\n');
    text = nl >= 0 ? text.slice(0, nl) : text;
  }
  const parsed = parsePluginOutput(text);
  const metrics = parsed.perfdata.length > 0 ? perfMetrics(parsed.perfdata) : undefined;
  let line = parsed.text;
  if (line === '') {
    const err = firstLine(end.stderr, false);
    line = err !== '' ? err : '(no output)';
  }
  if (truncated) line = `${clip(line)} [stdout cut at ${end.stdout.length} of ${end.stdoutBytes} bytes]`;
  else line = clip(line);

  if (end.code === null) {
    return {
      status: 'UNKNOWN',
      reason: 'exec_failed',
      output: clip(`${plan.name} killed by ${end.signal ?? 'a signal'}: ${line}`),
      metrics,
    };
  }
  const { status, reason } = statusOfExitCode(end.code);
  const output = reason === 'plugin_unknown' && end.code !== 3 ? `${line} (exit code ${end.code})` : line;
  return { status, reason, output, metrics };
}

function spawnFailure(plan: ExecPlan, err: NodeJS.ErrnoException): string {
  const file = plan.command.file;
  switch (err.code) {
    case 'ENOENT':
      return plan.cwd !== undefined
        ? `cannot run ${file}: not found (ENOENT), or the working directory ${plan.cwd} does not exist`
        : `cannot run ${file}: not found (ENOENT)`;
    case 'EACCES':
      return `cannot run ${file}: permission denied (EACCES), not executable or a directory`;
    default:
      return `cannot run ${file}: ${describeError(err)}`;
  }
}

/** First line of a buffer, trimmed; with `cutBar` only the text before any `|` (perfdata). */
function firstLine(buf: Buffer, cutBar = true): string {
  if (buf.length === 0) return '';
  const nl = buf.indexOf(10);
  const line = buf.toString('utf8', 0, nl < 0 ? Math.min(buf.length, 4 * MAX_OUTPUT_CHARS) : nl);
  const bar = cutBar ? line.indexOf('|') : -1;
  return (bar < 0 ? line : line.slice(0, bar)).trim();
}

function clip(s: string): string {
  return s.length > MAX_OUTPUT_CHARS ? `${s.slice(0, MAX_OUTPUT_CHARS - 3)}...` : s;
}
