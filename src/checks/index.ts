import type { CheckDeps, CheckFactory, CheckRunner, CheckSpec } from '../core/check.js';
import { outcome, type ProbeOutcome } from '../core/result.js';
import type { CheckConfig, CheckKind } from '../config/schema.js';
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

/** Every kind's validated config by kind name: `ConfigOf['grpc']` is GrpcCheckConfig. */
export type ConfigOf = { [C in CheckConfig as C['kind']]: C };

/** The resolved spec of a check of kind K. */
export type SpecOf<K extends CheckKind> = CheckSpec<ConfigOf[K]>;

/** One factory per kind, each typed by its own kind's config. */
export type CheckKinds = { [K in CheckKind]: CheckFactory<ConfigOf[K]> };

/**
 * Every check kind's factory. The type requires exactly one entry per kind of
 * the config schema, each taking that kind's config: adding a kind is its
 * file, its config file and one line here and in config/schema.ts.
 */
export const checkKinds: CheckKinds = {
  http: httpCheck,
  tcp: tcpCheck,
  grpc: grpcCheck,
  dns: dnsCheck,
  tls: tlsCheck,
  exec: execCheck,
  ttl: ttlCheck,
  system: systemCheck,
  icmp: icmpCheck,
  custom: customCheck,
};

/**
 * Build the runner for a resolved check with the owner's dependencies. A
 * config the kind's factory cannot run gives a runner that reports UNKNOWN
 * `error` (saying why) on every run, so one bad check never stops the others.
 */
export function createRunner(spec: CheckSpec, deps: CheckDeps): CheckRunner {
  try {
    return runnerOf(spec.config.kind, spec, deps);
  } catch (err) {
    return new InvalidCheck(outcome.unknown('error', `invalid ${spec.config.kind} check ${spec.id}: ${describeError(err)}`));
  }
}

/**
 * The factory of `kind` applied to its spec. Generic in K so that indexing
 * the mapped CheckKinds type gives CheckFactory<ConfigOf[K]>, which takes
 * SpecOf<K>: TypeScript correlates the two without a cast (its
 * "correlated union" pattern, microsoft/TypeScript#47109).
 */
function runnerOf<K extends CheckKind>(kind: K, spec: SpecOf<K>, deps: CheckDeps): CheckRunner {
  const factory: CheckFactory<ConfigOf[K]> = checkKinds[kind];
  return factory(spec, deps);
}

/** A check whose config cannot run: every run says why. */
class InvalidCheck implements CheckRunner {
  constructor(private readonly result: ProbeOutcome) {}

  run(): Promise<ProbeOutcome> {
    return Promise.resolve(this.result);
  }

  close(): void {}
}
