/**
 * The input port of the alerting module: what the daemon feeds it. Each
 * method maps to one event of the health bus or the status rollup (see
 * README "Alerts" and the wiring note in alerting.ts); none calls back.
 *
 * Times are epoch ms; the rule engine itself reads time from its Clock (the
 * `at` fields are kept for the timeline only).
 */
import type { HealthStatus } from '../core/status.js';

/** A check as alerts know it. */
export interface CheckRef {
  /** service/instance/name */
  checkId: string;
  service: string;
  instance: string;
  /** The check's name. */
  check: string;
  /** The check's kind (http, tcp, tls…). */
  kind: string;
}

/** A check result after the status machine (bus `result`). */
export interface ResultInput {
  check: CheckRef;
  /** The thresholded status after this result (state.status). */
  status: HealthStatus;
  /** The raw result's status, reason, output, duration (ms) and metrics. */
  result: {
    status: HealthStatus;
    reason: string;
    output: string;
    durationMs: number;
    observedAt: number;
    metrics?: Readonly<Record<string, number>>;
  };
}

/** A check's thresholded status changed (bus `transition`). */
export interface TransitionInput {
  check: CheckRef;
  from: HealthStatus;
  to: HealthStatus;
  reason: string;
  output: string;
  at: number;
}

/** A check started or stopped flapping (bus `flap`). */
export interface FlapInput {
  check: CheckRef;
  flapping: boolean;
  at: number;
}

/** An instance or service status changed (StatusRollup's onChange, levels instance and service). */
export interface StatusInput {
  level: 'instance' | 'service';
  service: string;
  /** The instance id, for level instance. */
  instance?: string;
  from: HealthStatus;
  to: HealthStatus;
  /** The check transition that caused it. */
  cause: string;
  at: number;
}

/** What a numeric sample is about: a check, an instance or a service. */
export type Subject = CheckRef | { service: string; instance?: string };

/**
 * One sample of a named numeric series: `score` of an instance, a system
 * value, an analysis output (trend slope, forecast, anomaly score, burn
 * rate). Results feed `latency_ms`, `failure` and every result metric by
 * themselves; this is for the rest.
 */
export interface SampleInput {
  series: string;
  subject: Subject;
  value: number;
  at: number;
}

/** Everything the daemon feeds the rule engine. */
export interface AlertInput {
  result(e: ResultInput): void;
  transition(e: TransitionInput): void;
  flap(e: FlapInput): void;
  status(e: StatusInput): void;
  sample(e: SampleInput): void;
  /** The registry changed (instances added/removed, tags, depends_on): matches are recomputed lazily. */
  topologyChanged(): void;
}

/** What alerts look up about the mesh (the registry and the config provide it). */
export interface AlertTopology {
  /** Tags and zone of an instance, or undefined when unknown. */
  instance(service: string, instance: string): { tags: readonly string[]; zone?: string } | undefined;
  /** Direct dependencies (`depends_on`) of a service. */
  dependsOn(service: string): readonly string[];
}
