/**
 * The events the engine publishes after the status machine has judged a
 * result: beside the machine, since they carry its state and transitions.
 */
import type { CheckSpec } from '../core/check.js';
import type { CheckResult } from '../core/result.js';
import type { HealthStatus } from '../core/status.js';
import type { CheckState, Transition } from './machine.js';

/** Every check result, after the status machine has seen it. */
export interface ResultEvent {
  spec: CheckSpec;
  result: CheckResult;
  state: CheckState;
  transition: Transition;
}

/** A check's thresholded status changed. */
export interface TransitionEvent {
  spec: CheckSpec;
  from: HealthStatus;
  to: HealthStatus;
  result: CheckResult;
  state: CheckState;
  /** Epoch ms of the change (the result's observedAt). */
  at: number;
}

/** A check started or stopped flapping. */
export interface FlapEvent {
  spec: CheckSpec;
  flapping: boolean;
  share: number;
  at: number;
}

/** The events the engine publishes; consumers subscribe, never call back. */
export interface HealthEvents {
  result: ResultEvent;
  transition: TransitionEvent;
  flap: FlapEvent;
  /** `at`: epoch ms of the change (the engine's clock). */
  'check-added': { spec: CheckSpec; at?: number };
  'check-removed': { spec: CheckSpec; at?: number };
}
