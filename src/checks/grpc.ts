import type { CheckFactory } from '../core/check.js';
import type { GrpcCheckConfig } from '../config/kinds/grpc.js';
import { grpcLib } from './grpc-lib.js';
import { compilePlan, Connection } from './grpc-plan.js';
import { GrpcCheckRunner } from './grpc-check.js';
import { GrpcWatchRunner } from './grpc-watch.js';

/**
 * gRPC check: the standard health protocol (`grpc.health.v1.Health`) on
 * @grpc/grpc-js, with the service definition from `grpc-health-check`.
 *
 * - mode `check`: one unary `Check` call a run, with a deadline and cancelled
 *   at once when ctx.signal aborts.
 * - mode `watch`: one server-streaming `Watch` kept open across runs; a run
 *   returns the latest status the server pushed (or why the stream is down)
 *   without a round trip, and a pushed change can be reported at once through
 *   `onPush` (see GrpcWatchRunner for when).
 *
 * One channel (one HTTP/2 connection, in a subchannel pool of its own so
 * close() really closes it) is created on the first run and reused. When a
 * call fails with UNAVAILABLE and the channel is not connected, the channel is
 * dropped and the next run (or stream reconnect) builds a fresh one: grpc-js
 * would otherwise answer every call from its reconnect backoff with the last
 * connection error, so a server that came back would still look down, and it
 * would keep reconnecting in the background between runs.
 *
 * Hot path: the request bytes, metadata template, deadline length and method
 * paths are prepared once; a run allocates one probe object that is the
 * call's listener and the AbortSignal listener at once (no closures), and
 * talks to the channel's call API directly instead of through a generated
 * client and its interceptor stack.
 *
 * Files: grpc-lib.ts (lazy load of grpc-js), grpc-plan.ts (plan and channel),
 * grpc-check.ts and grpc-watch.ts (one mode each), grpc-outcome.ts (results).
 */

export { unavailableReason } from './grpc-outcome.js';

/**
 * Builds a gRPC health runner (throws for an address without a port). The
 * channel is made lazily on the first run and released by close(). In watch
 * mode the runner has `onPush`, and its stream timers run on deps.clock with
 * jitter from deps.random.
 */
export const grpcCheck: CheckFactory<GrpcCheckConfig> = (spec, deps) => {
  const lib = grpcLib();
  const conn = new Connection(compilePlan(spec, lib), lib);
  return spec.config.mode === 'watch' ? new GrpcWatchRunner(conn, deps) : new GrpcCheckRunner(conn);
};
