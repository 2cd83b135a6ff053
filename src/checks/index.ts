import type { CheckFactory, CheckRunner, CheckSpec } from '../core/check.js';
import type { CheckKind } from '../config/schema.js';
import { httpCheck } from './http.js';
import { tcpCheck } from './tcp.js';

/** Every check kind's factory. Adding a kind: one file, one line here, one schema entry. */
export const checkKinds = {
  http: httpCheck as CheckFactory,
  tcp: tcpCheck as CheckFactory,
} satisfies Record<CheckKind, CheckFactory>;

/** Build the runner for a resolved check. */
export function createRunner(spec: CheckSpec): CheckRunner {
  return checkKinds[spec.kind](spec);
}
