import type { CheckFactory, CheckRunner, CheckSpec } from '../core/check.js';
import type { CheckKind } from '../config/schema.js';
import { customCheck } from './custom.js';
import { dnsCheck } from './dns.js';
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

/** Build the runner for a resolved check. */
export function createRunner(spec: CheckSpec): CheckRunner {
  return checkKinds[spec.kind](spec);
}
