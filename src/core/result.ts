import type { HealthStatus } from './status.js';

/**
 * Stable machine-readable cause of a check result. Alerting, metrics labels and
 * dashboards key on these, so never rename one; add new codes instead.
 */
export type Reason =
  | 'ok'
  | 'timeout'
  | 'connect_refused'
  | 'connect_reset'
  | 'unreachable'
  | 'dns'
  | 'tls'
  | 'status_mismatch'
  | 'body_mismatch'
  | 'banner_mismatch'
  | 'body_too_large'
  | 'slow'
  | 'protocol'
  | 'aborted'
  | 'error'
  // gRPC health protocol
  | 'grpc_not_serving'
  | 'grpc_service_unknown'
  | 'grpc_unimplemented'
  | 'grpc_error'
  // DNS
  | 'nxdomain'
  | 'servfail'
  | 'dns_refused'
  | 'answer_mismatch'
  // TLS certificates
  | 'cert_expiring'
  | 'cert_expired'
  | 'cert_hostname'
  | 'cert_untrusted'
  // exec (Nagios plugin protocol)
  | 'plugin_warning'
  | 'plugin_critical'
  | 'plugin_unknown'
  | 'exec_failed'
  // TTL heartbeats
  | 'ttl_expired'
  | 'ttl_warn'
  | 'ttl_fail'
  // thresholds (system, icmp, custom metrics)
  | 'threshold_warning'
  | 'threshold_critical'
  | 'packet_loss'
  // custom checks
  | 'custom_failed'
  | 'custom_crashed'
  | 'memory_limit';

/** The outcome of one check run. Checks return failures as data, never throw. */
export interface CheckResult {
  status: HealthStatus;
  reason: Reason;
  /** Wall time of the run in milliseconds (all attempts when retried). */
  durationMs: number;
  /** One human-readable line. */
  output: string;
  /** When the result was observed, epoch milliseconds from the Clock. */
  observedAt: number;
  /** Number of attempts made (1 without retries). */
  attempts?: number;
  /** Numeric facts the check measured (status code, bytes, days left…). */
  metrics?: Record<string, number>;
}

/** A result before the scheduler stamps duration, time and attempts on it. */
export type ProbeOutcome = Pick<CheckResult, 'status' | 'reason' | 'output'> & {
  metrics?: Record<string, number>;
};

/** Shorthand constructors for runners. */
export const outcome = {
  healthy(output = 'ok', metrics?: Record<string, number>): ProbeOutcome {
    return { status: 'HEALTHY', reason: 'ok', output, metrics };
  },
  degraded(reason: Reason, output: string, metrics?: Record<string, number>): ProbeOutcome {
    return { status: 'DEGRADED', reason, output, metrics };
  },
  unhealthy(reason: Reason, output: string, metrics?: Record<string, number>): ProbeOutcome {
    return { status: 'UNHEALTHY', reason, output, metrics };
  },
  unknown(reason: Reason, output: string): ProbeOutcome {
    return { status: 'UNKNOWN', reason, output };
  },
};
