/**
 * Child processes for benchmarks: free ports, start/stop with a bounded
 * wait, CPU time of another process from /proc/PID/stat.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';

/** A port nobody listens on right now (bind 127.0.0.1:0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Clock ticks per second of /proc/PID/stat times (`getconf CLK_TCK`, 100 nearly everywhere). */
export function clockTicks(): number {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

const TICKS = clockTicks();

/** utime + stime of every thread of process `pid`, in ms (resolution 1000/CLK_TCK ms). */
export function procCpuMs(pid: number, statFile = `/proc/${pid}/stat`): number {
  const stat = readFileSync(statFile, 'utf8');
  // Fields after "(comm)": state is field 3, utime 14, stime 15.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return ((utime + stime) * 1000) / TICKS;
}

/** CPU ms of each thread of a process, by thread id, with its name (/proc/PID/task/TID/comm). */
export function threadCpuMs(pid: number): Map<number, { name: string; ms: number }> {
  const out = new Map<number, { name: string; ms: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      out.set(Number(tid), { name, ms: procCpuMs(pid, `/proc/${pid}/task/${tid}/stat`) });
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** This process' user + system CPU in ms. */
export function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  /** Last lines of its stderr/stdout, for error messages. */
  output(): string;
}

const children = new Set<Child>();

/**
 * Start a program; its pid is appended to $PROBES_PIDFILE when set, so the
 * wrapper script can kill it even if this process dies hard.
 */
export function startChild(name: string, cmd: string, args: string[], cwd?: string): Child {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(cwd ? { cwd } : {}) });
  if (proc.pid === undefined) throw new Error(`${name}: could not start ${cmd}`);
  let tail = '';
  const keep = (b: Buffer): void => {
    tail = (tail + b.toString('utf8')).slice(-4000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  proc.on('error', (err) => keep(Buffer.from(`\n${name}: ${err.message}\n`)));
  const child: Child = { name, proc, pid: proc.pid, output: () => tail };
  children.add(child);
  proc.once('exit', () => children.delete(child));
  const pidfile = process.env.PROBES_PIDFILE;
  if (pidfile) appendFileSync(pidfile, `${proc.pid}\n`);
  return child;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
export function stopChild(child: Child, graceMs = 2000): Promise<void> {
  const { proc } = child;
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    const give = setTimeout(resolve, graceMs + 2000); // never hang the bench
    proc.once('exit', () => {
      clearTimeout(kill);
      clearTimeout(give);
      resolve();
    });
    proc.kill('SIGTERM');
  });
}

/** Stop every child still running. */
export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((c) => stopChild(c)));
}

/** Synchronous last resort (process 'exit' handler): SIGKILL every child by pid. */
export function killAllSync(): void {
  for (const c of children) {
    try {
      process.kill(c.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Resolve once 127.0.0.1:port accepts a connection; reject after `timeoutMs` or if the child exits. */
export async function waitForPort(child: Child, port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.proc.exitCode !== null || child.proc.signalCode !== null) {
      throw new Error(`${child.name} exited (${child.proc.exitCode ?? child.proc.signalCode}):\n${child.output()}`);
    }
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => {
        s.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${child.name} not listening on ${port} after ${timeoutMs} ms:\n${child.output()}`);
    await sleep(50);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** CPU ms spent by the whole machine, all cores, outside idle and iowait (from /proc/stat). */
export function systemBusyMs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  // cpu user nice system idle iowait irq softirq steal guest guest_nice
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  return (busy * 1000) / TICKS;
}
