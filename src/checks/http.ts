import type { CheckFactory } from '../core/check.js';
import type { HttpCheckConfig } from '../config/schema.js';
import { compilePlan } from './http-plan.js';
import { LeanHttpRunner } from './http-lean.js';
import { HttpCheckRunner } from './http-undici.js';

/**
 * HTTP(S) check, on two clients:
 *
 * - plain `http:` with `reuse_connections: false` and `follow_redirects: 0`
 *   (a new connection per probe, like blackbox_exporter) goes through the
 *   lean HTTP/1.1 client of http1/client.ts: the request bytes are encoded once per
 *   check, a probe is net.connect, one write and an incremental parser. On
 *   that path undici's connection machinery and its `reset` handling cost
 *   more CPU than everything else together: bench/probes, http-new against
 *   http-new-undici alternating in one run, 0.135 against 0.239 ms CPU per
 *   probe (medians of 7; 0.42–0.66× per round). It stays while it is at
 *   least 25 % cheaper (README, Measured choices).
 * - everything else (https, kept-alive connections, redirects, which may
 *   cross origins and schemes) goes through undici.
 *
 * Both share one judging code (ProbeBase): status table, body conditions on
 * at most max_body_bytes, degraded_after, timeout handling and messages.
 *
 * This is the product's hot path, so everything that does not depend on the
 * response is computed once in the factory (URL, origin, path, header list,
 * status table, compiled regex and JSON paths, dispatch options or request
 * bytes), and a run allocates one small probe object that is at once the
 * client's handler and the AbortSignal listener (`handleEvent`). The
 * response body is never buffered beyond `max_body_bytes`: past that the
 * request is aborted, which destroys the connection.
 *
 * The run's signal is read lazily (see armDelayMs): the scheduler creates an
 * AbortController only when a runner reads ctx.signal, and creating it plus
 * adding and removing the listener cost more CPU than the rest of our own
 * per-probe work; most probes are done long before anyone could abort them.
 *
 * Files: http-plan.ts (the plan computed once), http-judge.ts (judging, shared
 * by both clients), http-undici.ts and http-lean.ts (one client each).
 */

export { compileStatusTable } from './http-plan.js';

/**
 * Builds an HTTP(S) runner: on the lean client for plain http without reuse
 * or redirects, else with one undici Client per check, created here and
 * closed in close(). Throws for a config it cannot run (bad URL, regex or
 * JSON path).
 */
export const httpCheck: CheckFactory<HttpCheckConfig> = (spec) => {
  const plan = compilePlan(spec);
  return plan.lean !== null ? new LeanHttpRunner(plan, plan.lean) : new HttpCheckRunner(plan);
};
