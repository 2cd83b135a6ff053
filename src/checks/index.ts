import type { CheckFactory, CheckRunner, CheckSpec } from '../core/check.js';
import { outcome, type ProbeOutcome } from '../core/result.js';
import type { CheckKind } from '../config/schema.js';
import { customCheck } from './custom.js';
import { dnsCheck } from './dns.js';
import { describeError } from './errors.js';
import { execCheck } from './exec.js';
import { grpcCheck } from './grpc.js';
import { httpCheck } from './http.js';
import { icmpCheck } from './icmp.js';
import { systemCheck } from './system.js';
import { tcpCheck } from './tcp.js';
import { tlsCheck } from './tls.js';
import { ttlCheck } from './ttl.js';

/** Every check kind's factory. Adding a kind: one file, one line here, one schema entry. */
export const checkKinds = {
  http: httpCheck as CheckFactory,
  tcp: tcpCheck as CheckFactory,
  grpc: grpcCheck as CheckFactory,
  dns: dnsCheck as CheckFactory,
  tls: tlsCheck as CheckFactory,
  exec: execCheck as CheckFactory,
  ttl: ttlCheck as CheckFactory,
  system: systemCheck as CheckFactory,
  icmp: icmpCheck as CheckFactory,
  custom: customCheck as CheckFactory,
} satisfies Record<CheckKind, CheckFactory>;

/**
 * Build the runner for a resolved check. A config the kind's factory cannot
 * run gives a runner that reports UNKNOWN `error` (saying why) on every run,
 * so one bad check never stops the others.
 */
export function createRunner(spec: CheckSpec): CheckRunner {
  try {
    return checkKinds[spec.kind](spec);
  } catch (err) {
    return new InvalidCheck(outcome.unknown('error', `invalid ${spec.config.kind} check ${spec.id}: ${describeError(err)}`));
  }
}

/** A check whose config cannot run: every run says why. */
class InvalidCheck implements CheckRunner {
  constructor(private readonly result: ProbeOutcome) {}

  run(): Promise<ProbeOutcome> {
    return Promise.resolve(this.result);
  }

  close(): void {}
}
