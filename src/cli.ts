#!/usr/bin/env node
import { Command, CommanderError, Option } from 'commander';
import { createRunner } from './checks/index.js';
import { realClock } from './core/clock.js';
import { isConfigError, isUsageError } from './core/errors.js';
import { realRandom } from './core/random.js';
import type { CheckResult } from './core/result.js';
import { nagiosExitCode } from './core/status.js';
import { loadConfigFile } from './config/load.js';
import { configJsonSchema, type Config } from './config/schema.js';
import { registerAlertsCommand } from './cli/alerts-command.js';
import { registerAnalyzeCommand } from './cli/analyze-command.js';
import { registerReportCommand } from './cli/report-command.js';
import { specFromTarget, type CheckCommandOptions } from './cli/check-target.js';
import { nagiosLine } from './cli/format.js';
import { attemptWithTimeout } from './scheduler/attempt.js';
import { VERSION } from './version.js';

/** Exit code for a `check` that cannot run (Nagios UNKNOWN). */
const EXIT_UNKNOWN = 3;

function buildProgram(): Command {
  const program = new Command('healthmesh')
    .description('Service-health monitoring for service meshes')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('start')
    .description('run the daemon: schedule every check of the config and serve the HTTP endpoints')
    .option('-c, --config <file>', 'config file', 'healthmesh.yaml')
    .option('-l, --listen <host:port>', 'HTTP listen address (overrides server.listen)')
    .action(startCommand);

  program
    .command('proxy')
    .description('run the reverse proxy: route requests to the healthy instances of services (and run the daemon, unless --follow)')
    .option('-c, --config <file>', 'config file (with a proxy: section)', 'healthmesh.yaml')
    .option('-l, --listen <host:port>', 'proxy listen address (overrides proxy.listen)')
    .option('-f, --follow <url>', 'follow a running daemon (e.g. http://127.0.0.1:7400) instead of running checks here')
    .action(proxyCommand);

  program
    .command('check')
    .description('run one check and exit with the Nagios code: 0 OK, 1 WARNING (DEGRADED), 2 CRITICAL (UNHEALTHY), 3 UNKNOWN')
    .argument(
      '<target>',
      'http://host:port/path, https://..., tcp://host:port, grpc://host:port[/service], grpcs://..., ' +
        'dns://server[:port]/name?type=A|AAAA|CNAME|SRV|TXT|MX|NS, tls://host:port, or exec (then -- command args)',
    )
    .argument('[command...]', 'for exec: the plugin and its arguments, after --')
    .option('-t, --timeout <duration>', 'give up after this long', '5s')
    .option('-e, --expect-status <list>', 'accepted status codes, e.g. 200,204 or 2xx or 200-399 (default 2xx)')
    .option('-H, --header <name:value>', 'request header (repeatable)', collect, [])
    .option('-m, --method <method>', 'HTTP method (default GET)')
    .option('--contains <text>', 'the body must contain this text')
    .option('--degraded-after <duration>', 'slower than this → WARNING (DEGRADED)')
    .option('-k, --insecure', 'do not verify TLS certificates')
    .option('--cacert <file>', 'https, grpcs, tls: trust the CAs in this PEM file instead of the system roots')
    .option('--cert <file>', 'https, grpcs: client certificate (PEM) for targets that require mTLS; with --key')
    .option('--key <file>', 'https, grpcs: private key (PEM) of --cert')
    .option('--warn-days <n>', 'tls: WARNING when the certificate expires within n days (default 30)')
    .option('--critical-days <n>', 'tls: CRITICAL within n days (default 7)')
    .option('--watch', 'grpc: use the streaming Watch call instead of Check')
    .option('--json', 'print the result as JSON')
    .action(checkCommand);

  program
    .command('validate')
    .description('validate a config file: exit 0 when valid, 1 with every problem listed otherwise')
    .argument('<file>', 'config file')
    .action(validateCommand);

  program
    .command('schema')
    .description("print the config file's JSON Schema")
    .action(() => {
      process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
    });

  registerAnalyzeCommand(program);
  registerAlertsCommand(program);
  registerReportCommand(program);

  program.addOption(new Option('--no-color', 'plain output').hideHelp());
  return program;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function checkCommand(target: string, commandArgs: string[], options: CheckCommandOptions & { json?: boolean }): Promise<void> {
  let spec: ReturnType<typeof specFromTarget>;
  try {
    spec = specFromTarget(target, options, commandArgs);
  } catch (err) {
    if (!isUsageError(err)) throw err;
    process.stderr.write(`healthmesh check: ${err.message}\n`);
    process.exitCode = EXIT_UNKNOWN;
    return;
  }
  // A one-off run has no logger: the result line is all it says.
  const runner = createRunner(spec, { clock: realClock, random: realRandom });
  const started = realClock.now();
  const outcome = await attemptWithTimeout(runner, realClock, spec.timeoutMs);
  const finished = realClock.now();
  await runner.close?.();
  const result: CheckResult = { ...outcome, durationMs: finished - started, observedAt: Math.round(finished), attempts: 1 };
  const exitCode = nagiosExitCode(result.status);
  if (options.json) process.stdout.write(`${JSON.stringify({ target, ...result, exitCode })}\n`);
  else process.stdout.write(`${nagiosLine(result)}\n`);
  process.exitCode = exitCode;
}

async function validateCommand(file: string): Promise<void> {
  try {
    const config = await loadConfigFile(file);
    const services = Object.keys(config.services).length;
    process.stdout.write(`${file}: valid (${services} service${services === 1 ? '' : 's'})\n`);
  } catch (err) {
    if (!isConfigError(err)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exitCode = 1;
  }
}

async function startCommand(options: { config: string; listen?: string }): Promise<void> {
  const config = await loadConfigOrReport(options.config);
  if (!config) return;
  // Loaded here so that `check` and `validate` start fast (no server, no logger).
  const [{ createLogger }, { startDaemon }, { SecretSet }] = await Promise.all([
    import('./core/logger.js'),
    import('./daemon.js'),
    import('./security/secrets.js'),
  ]);
  // One set for the logs and the API: the daemon fills it with the config's and the registrations' secrets.
  const secrets = new SecretSet();
  const logger = createLogger(config.log, process.stdout, secrets);
  const daemon = await startDaemon({ config, logger, listen: options.listen, configPath: options.config, secrets });
  onReload(logger, daemon.reload);
  onShutdown(logger, () => daemon.stop());
}

async function proxyCommand(options: { config: string; listen?: string; follow?: string }): Promise<void> {
  const config = await loadConfigOrReport(options.config);
  if (!config) return;
  if (!config.proxy) {
    process.stderr.write(`${options.config}: no proxy: section (give proxy.listen and proxy.routes; see README, "Proxy")\n`);
    process.exitCode = 1;
    return;
  }
  const [{ createLogger }, { runProxy }, { SecretSet }] = await Promise.all([
    import('./core/logger.js'),
    import('./cli/proxy-command.js'),
    import('./security/secrets.js'),
  ]);
  const secrets = new SecretSet();
  const logger = createLogger(config.log, process.stdout, secrets);
  const running = await runProxy({
    config,
    logger,
    secrets,
    configPath: options.config,
    ...(options.listen ? { listen: options.listen } : {}),
    ...(options.follow ? { follow: options.follow } : {}),
  });
  if (running.reload) onReload(logger, running.reload);
  // The proxy drains first: its requests in flight get drain_timeout (see README, "Proxy").
  onShutdown(logger, () => running.stop(), config.proxy?.drain_timeout ?? 0);
}

/** The config file, or undefined after printing its problems (exit code 1). */
async function loadConfigOrReport(path: string): Promise<Config | undefined> {
  try {
    return await loadConfigFile(path);
  } catch (err) {
    if (!isConfigError(err)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exitCode = 1;
    return undefined;
  }
}

/** Reload the config on SIGHUP; a bad one is logged and the running config stays. */
function onReload(logger: import('./core/logger.js').Logger, reload: () => Promise<unknown>): void {
  process.on('SIGHUP', () => void reload().catch((err: unknown) => logger.error({ err: (err as Error).message }, 'reload failed; the running config stays')));
}

/** Stop on SIGINT/SIGTERM within a second past `graceMs` (a drain), whatever hangs. */
function onShutdown(logger: import('./core/logger.js').Logger, stop: () => Promise<void>, graceMs = 0): void {
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, `${signal} received, stopping`);
    const signalledAt = realClock.now();
    const guard = setTimeout(() => process.exit(0), graceMs + 900);
    guard.unref();
    stop().then(
      () => {
        // Says the stop finished by itself (not cut by the guard) and how long it took inside the process.
        logger.info({ signal, stop_ms: Math.round(realClock.now() - signalledAt) }, 'stopped');
        logger.flush?.();
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

async function main(argv: string[]): Promise<void> {
  // `healthmesh schema | head` closes the pipe early; that is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const program = buildProgram();
  program.exitOverride();
  for (const sub of program.commands) sub.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
        process.exitCode = 0;
        return;
      }
      // Usage errors: Nagios UNKNOWN for `check`, 2 elsewhere (the usual "misuse" code).
      process.exitCode = argv[2] === 'check' ? EXIT_UNKNOWN : 2;
      return;
    }
    process.stderr.write(`healthmesh: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = argv[2] === 'check' ? EXIT_UNKNOWN : 1;
  }
}

void main(process.argv);
