import type { CheckRunner } from '../core/check.js';
import type { Clock } from '../core/clock.js';
import type { ProbeOutcome } from '../core/result.js';

/** Hooks the scheduler uses to track attempts; all optional. */
export interface AttemptHooks {
  /** The controller of this attempt, to abort it early (removal, shutdown). */
  onStart?(controller: AbortController): void;
  /** The attempt settled or timed out; the controller is no longer needed. */
  onEnd?(): void;
  /** The timeout fired before the runner settled. */
  onTimeout?(): void;
  /** A runner that had timed out finally settled. */
  onLateSettle?(): void;
}

/**
 * Run one attempt bounded by timeoutMs. At the timeout the signal aborts and
 * the attempt resolves as `timeout` at once, whether or not the runner
 * honours the abort: a runner that ignores it is abandoned, never waited for.
 * Never rejects: a runner that throws yields UNKNOWN `error`.
 */
export function attemptWithTimeout(runner: CheckRunner, clock: Clock, timeoutMs: number, hooks: AttemptHooks = {}): Promise<ProbeOutcome> {
  const controller = new AbortController();
  hooks.onStart?.(controller);
  return new Promise<ProbeOutcome>((resolve) => {
    let settled = false;
    const timer = clock.setTimeout(() => {
      if (settled) return;
      settled = true;
      hooks.onTimeout?.();
      controller.abort(new Error('timeout'));
      hooks.onEnd?.();
      resolve({ status: 'UNHEALTHY', reason: 'timeout', output: `no answer within ${timeoutMs}ms` });
    }, timeoutMs);
    const finish = (value: ProbeOutcome): void => {
      if (settled) {
        hooks.onLateSettle?.();
        return;
      }
      settled = true;
      clock.clearTimeout(timer);
      hooks.onEnd?.();
      resolve(value);
    };
    let promise: Promise<ProbeOutcome>;
    try {
      promise = runner.run({ signal: controller.signal, clock });
    } catch (err) {
      promise = Promise.reject(err);
    }
    // Runners should never throw; one that does has a bug, the target is not to blame.
    promise.then(finish, (err: unknown) => finish({ status: 'UNKNOWN', reason: 'error', output: `check failed to run: ${errorText(err)}` }));
  });
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
