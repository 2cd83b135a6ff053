/**
 * What a condition kind is: a factory from its config to an evaluator that
 * reads the events it listens to and says whether the condition holds for
 * the subject of the event. Evaluators keep no per-alert state; windows of
 * numeric series live in SeriesWindows, shared by every rule.
 */
import type { ResultInput, StatusInput, Subject } from '../input.js';
import type { SeriesWindows } from '../series.js';

/** What one alert is about: a check, an instance or a service. */
export type Scope = 'check' | 'instance' | 'service';

/** An event a condition can look at. */
export type ConditionEvent =
  | { type: 'result'; input: ResultInput }
  | { type: 'status'; input: StatusInput }
  | { type: 'sample'; series: string; subject: Subject; value: number };

/** A condition's answer for the subject of one event. */
export interface Verdict {
  active: boolean;
  /** The number looked at (aggregate, metric), or null. */
  value: number | null;
  /** One line saying what was seen, for notifications ('' when evaluate was asked for no detail). */
  summary: string;
}

/** What an evaluator may read besides the event. */
export interface ConditionContext {
  series: SeriesWindows;
  /** Epoch ms (the engine's Clock). */
  now: number;
}

/** A compiled condition. */
export interface Condition {
  /** Event types that can change the verdict; the engine calls evaluate only for these. */
  readonly listens: ReadonlyArray<ConditionEvent['type']>;
  /** The subject level its alerts are about (the labels they carry). */
  readonly scope: Scope;
  /** A numeric series it reads and the window it needs, so SeriesWindows keeps enough. */
  readonly series?: { name: string; windowMs: number };
  /**
   * The verdict for the event's subject, or undefined when the event says
   * nothing about this condition. With `detail` false the summary may be ''
   * (most verdicts are "inactive, no alert": building text for them is most
   * of an evaluation's cost); the engine asks again with detail when it needs it.
   */
  evaluate(event: ConditionEvent, ctx: ConditionContext, detail: boolean): Verdict | undefined;
}

/** Builds an evaluator from one condition config; `scope` is the rule's scope: (undefined: the kind's default). */
export type ConditionFactory<C> = (config: C, scope: Scope | undefined) => Condition;

/** Compare `a op b`. */
export function compare(a: number, op: '<' | '<=' | '>' | '>=' | '==' | '!=', b: number): boolean {
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '==':
      return a === b;
    default:
      return a !== b;
  }
}
