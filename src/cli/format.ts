import type { CheckResult } from '../core/result.js';
import { nagiosExitCode } from '../core/status.js';

const NAGIOS_WORD = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const;

/**
 * One line in the Nagios plugin format: `WORD - output (reason, 12.3ms) | perfdata`,
 * so `healthmesh check` can serve as a Nagios plugin or a Kubernetes exec probe.
 */
export function nagiosLine(result: CheckResult): string {
  const word = NAGIOS_WORD[nagiosExitCode(result.status)];
  const perf = [`time=${(result.durationMs / 1000).toFixed(6)}s`];
  for (const [k, v] of Object.entries(result.metrics ?? {})) perf.push(`${k.replace(/[\s=']/g, '_')}=${v}`);
  const output = result.output.replace(/\|/g, '/').replace(/\s+/g, ' ');
  return `${word} - ${output} (${result.reason}, ${result.durationMs.toFixed(1)}ms) | ${perf.join(' ')}`;
}
