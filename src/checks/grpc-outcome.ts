import type { StatusObject } from '@grpc/grpc-js';
import { outcome, type ProbeOutcome, type Reason } from '../core/result.js';
import { reasonOfCode, describeError } from './errors.js';
import { Code, grpcLib } from './grpc-lib.js';
import type { GrpcPlan } from './grpc-plan.js';

/** Results of the gRPC check: serving statuses and call statuses turned into outcomes. */

/** HealthCheckResponse.ServingStatus names → proto numbers (metric `serving_status`). */
const SERVING_STATUS: Readonly<Record<string, number>> = {
  UNKNOWN: 0,
  SERVING: 1,
  NOT_SERVING: 2,
  SERVICE_UNKNOWN: 3,
};

/** The outcome of a HealthCheckResponse (from Check or pushed by Watch). */
export function servingOutcome(message: Buffer | null, plan: GrpcPlan, method: 'Check' | 'Watch'): ProbeOutcome {
  if (message === null) {
    return outcome.unhealthy('protocol', `${method} returned OK without a HealthCheckResponse (${plan.target})`);
  }
  let name: string;
  try {
    const status = grpcLib().decodeResponse(message).status;
    name = typeof status === 'string' ? status : String(status ?? 'UNKNOWN');
  } catch (err) {
    return outcome.unhealthy('protocol', `bad HealthCheckResponse from ${plan.target}: ${describeError(err)}`);
  }
  const code = SERVING_STATUS[name];
  const metrics = { serving_status: code ?? -1 };
  switch (name) {
    case 'SERVING':
      return outcome.healthy(`${plan.what} SERVING`, metrics);
    case 'NOT_SERVING':
      return outcome.unhealthy('grpc_not_serving', `${plan.what} NOT_SERVING (${plan.target})`, metrics);
    case 'SERVICE_UNKNOWN':
      return outcome.unhealthy('grpc_service_unknown', `${plan.what} SERVICE_UNKNOWN to ${plan.target}`, metrics);
    default:
      // UNKNOWN (0) or a value newer than this code: not serving as far as we can tell.
      return outcome.unhealthy('grpc_not_serving', `${plan.what} status ${name} (${plan.target})`, metrics);
  }
}

/** The outcome of a call that ended with a non-OK gRPC status. */
export function statusFailure(status: StatusObject, plan: GrpcPlan): ProbeOutcome {
  const name = grpcLib().grpc.status[status.code] ?? `code ${status.code}`;
  const details = cleanDetails(status.details);
  const text = `${name}: ${details}`;
  const metrics = { grpc_code: status.code };
  switch (status.code) {
    case Code.NOT_FOUND:
      return outcome.unhealthy('grpc_service_unknown', `${plan.what} unknown to ${plan.target}: ${text}`, metrics);
    case Code.UNIMPLEMENTED:
      return outcome.unhealthy('grpc_unimplemented', `no health service on ${plan.target}: ${text}`, metrics);
    case Code.DEADLINE_EXCEEDED:
      return outcome.unhealthy('timeout', `${text} (${plan.target})`, metrics);
    case Code.UNAVAILABLE: {
      const reason = unavailableReason(details);
      // Node TLS servers refuse a client certificate by closing at once, without an alert, which
      // grpc-js reports as a bare "Failed to connect": with client_cert sent, that is the likely cause.
      if (reason === 'connect_reset' && plan.clientCert !== null && details.startsWith('No connection established') && /Failed to connect/.test(details)) {
        return outcome.unhealthy('tls', `${text} (${plan.target}): closed during TLS setup; the server likely refused client_cert`, metrics);
      }
      return outcome.unhealthy(reason, `${text} (${plan.target})`, metrics);
    }
    default:
      return outcome.unhealthy('grpc_error', `${text} (${plan.target})`, metrics);
  }
}

const ERROR_CODE = /\b(E[A-Z]{3,}|ERR_[A-Z0-9_]+|CERT_[A-Z_]+|[A-Z]+_SELF_SIGNED_CERT[A-Z_]*|UNABLE_TO_[A-Z_]+)\b/;
const TLS_TEXT = /certificate|SSL routines|self[- ]signed|handshake|TLS|wrong version number|alert/i;

/**
 * The Reason of an UNAVAILABLE status. grpc-js reports connection failures
 * as UNAVAILABLE with the Node error only as text ("No connection
 * established. Last error: Error: connect ECONNREFUSED …"); the error code in
 * it maps with the same table as the other network checks, TLS failures by
 * their wording, a connection the peer closed as `connect_reset`, and
 * anything else is `unreachable`. Exported for tests.
 */
export function unavailableReason(details: string): Reason {
  if (details.startsWith('Name resolution failed')) return 'dns';
  const m = ERROR_CODE.exec(details);
  const byCode = m !== null ? reasonOfCode(m[1] as string) : undefined;
  if (byCode !== undefined) return byCode;
  if (TLS_TEXT.test(details)) return 'tls';
  // The peer closed the connection before HTTP/2 was up (e.g. plaintext to a TLS port), or during the call.
  if (/Failed to connect|Connection dropped/.test(details)) return 'connect_reset';
  return 'unreachable';
}

/** Drop grpc-js' empty "Resolution note" tail and keep the line short. */
function cleanDetails(details: string): string {
  return details
    .replace(/\.? Resolution note: ?$/, '')
    .replace(/[\r\n]+/g, ' ')
    .trim()
    .slice(0, 300);
}
