import type { CheckSpec } from './check.js';
import type { CheckResult } from './result.js';
import type { HealthStatus } from './status.js';
import type { CheckState, Transition } from '../status/machine.js';

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
