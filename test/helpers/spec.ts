import type { z } from 'zod';
import type { CheckSpec } from '../../src/core/check.js';
import { customCheckSchema, type CustomCheckConfig } from '../../src/config/kinds/custom.js';
import { execCheckSchema, type ExecCheckConfig } from '../../src/config/kinds/exec.js';
import { grpcCheckSchema, type GrpcCheckConfig } from '../../src/config/kinds/grpc.js';
import { icmpCheckSchema, type IcmpCheckConfig } from '../../src/config/kinds/icmp.js';
import { systemCheckSchema, type SystemCheckConfig } from '../../src/config/kinds/system.js';
import { ttlCheckSchema, type TtlCheckConfig } from '../../src/config/kinds/ttl.js';
import { httpCheckSchema, tcpCheckSchema, type HttpCheckConfig, type TcpCheckConfig } from '../../src/config/schema.js';

/** A complete CheckSpec for scheduler/engine tests; timing overridable. */
export function fakeSpec(id: string, timing: Partial<CheckSpec> = {}): CheckSpec {
  return {
    id,
    name: id,
    kind: 'tcp',
    service: 'svc',
    instance: 'i1',
    address: '127.0.0.1:1',
    config: tcpCheckSchema.parse({ kind: 'tcp' }),
    intervalMs: 1000,
    timeoutMs: 500,
    retries: 0,
    retryBackoffMs: 100,
    jitter: 0,
    rise: 1,
    fall: 1,
    unhealthyIntervalMs: 1000,
    edgeIntervalMs: 1000,
    flap: { window: 21, low: 0.05, high: 0.2 },
    ...timing,
  };
}

/**
 * A full CheckSpec for a check test: check `svc/i1/<kind>`, intervals 10 s,
 * no retries, rise and fall 1. `timeoutMs` is the attempt timeout (ms);
 * `extra` overrides any field (id, name, intervals).
 */
export function checkSpec<C extends { kind: string }>(config: C, address: string, timeoutMs: number, extra: Partial<CheckSpec<C>> = {}): CheckSpec<C> {
  return {
    id: `svc/i1/${config.kind}`,
    name: config.kind,
    // Kinds not yet wired into CheckKind are built by the tests all the same.
    kind: config.kind as CheckSpec['kind'],
    service: 'svc',
    instance: 'i1',
    address,
    config,
    intervalMs: 10_000,
    timeoutMs,
    retries: 0,
    retryBackoffMs: 200,
    jitter: 0,
    rise: 1,
    fall: 1,
    unhealthyIntervalMs: 10_000,
    edgeIntervalMs: 10_000,
    flap: { window: 21, low: 0.05, high: 0.2 },
    ...extra,
  };
}

/** What a test writes for an http check (schema input, without `kind`). */
export type HttpInput = Omit<z.input<typeof httpCheckSchema>, 'kind'>;
/** What a test writes for a tcp check (schema input, without `kind`). */
export type TcpInput = Omit<z.input<typeof tcpCheckSchema>, 'kind'>;
/** What a test writes for a grpc check (schema input, without `kind`). */
export type GrpcInput = Omit<z.input<typeof grpcCheckSchema>, 'kind'>;
/** What a test writes for an exec check (schema input, without `kind`). */
export type ExecInput = Omit<z.input<typeof execCheckSchema>, 'kind'>;
/** What a test writes for an icmp check (schema input, without `kind`). */
export type IcmpInput = Omit<z.input<typeof icmpCheckSchema>, 'kind'>;
/** What a test writes for a custom check (schema input, without `kind`). */
export type CustomInput = Omit<z.input<typeof customCheckSchema>, 'kind'>;
/** What a test writes for a system check (schema input, without `kind`). */
export type SystemInput = Omit<z.input<typeof systemCheckSchema>, 'kind'>;
/** What a test writes for a ttl check (schema input, without `kind`). */
export type TtlInput = Omit<z.input<typeof ttlCheckSchema>, 'kind'>;

// Each kind's config goes through its zod schema, so defaults apply. Timeouts in ms.

/** A full http CheckSpec. */
export function httpSpec(address: string, input: HttpInput = {}, timeoutMs = 500): CheckSpec<HttpCheckConfig> {
  return checkSpec(httpCheckSchema.parse({ kind: 'http', ...input }), address, timeoutMs);
}

/** A full tcp CheckSpec. */
export function tcpSpec(address: string, input: TcpInput = {}, timeoutMs = 500): CheckSpec<TcpCheckConfig> {
  return checkSpec(tcpCheckSchema.parse({ kind: 'tcp', ...input }), address, timeoutMs);
}

/** A full grpc CheckSpec. */
export function grpcSpec(address: string, input: GrpcInput = {}, timeoutMs = 500): CheckSpec<GrpcCheckConfig> {
  return checkSpec(grpcCheckSchema.parse({ kind: 'grpc', ...input }), address, timeoutMs);
}

/** A full exec CheckSpec (the address fills $HOST/$PORT). */
export function execSpec(input: ExecInput, address = '127.0.0.1:1', timeoutMs = 5000): CheckSpec<ExecCheckConfig> {
  return checkSpec(execCheckSchema.parse({ kind: 'exec', ...input }), address, timeoutMs);
}

/** A full icmp CheckSpec (the host comes from the address unless input names one). */
export function icmpSpec(input: IcmpInput, address = '127.0.0.1:8080', timeoutMs = 5000): CheckSpec<IcmpCheckConfig> {
  return checkSpec(icmpCheckSchema.parse({ kind: 'icmp', ...input }), address, timeoutMs);
}

/** A full custom CheckSpec; `name` also names the check id `svc/i1/<name>`. */
export function customSpec(input: CustomInput, timeoutMs = 5000, name = 'custom'): CheckSpec<CustomCheckConfig> {
  const config = customCheckSchema.parse({ kind: 'custom', ...input });
  return checkSpec(config, '127.0.0.1:9', timeoutMs, { id: `svc/i1/${name}`, name });
}

/** A full system CheckSpec, timeout 1 s. */
export function systemSpec(input: SystemInput = {}): CheckSpec<SystemCheckConfig> {
  return checkSpec(systemCheckSchema.parse({ kind: 'system', ...input }), '127.0.0.1:1', 1000);
}

/** A full ttl CheckSpec, timeout 1 s; its intervals follow the config's `interval` (10 s when unset). */
export function ttlSpec(input: TtlInput): CheckSpec<TtlCheckConfig> {
  const config = ttlCheckSchema.parse({ kind: 'ttl', ...input });
  const interval = config.interval ?? 10_000;
  return checkSpec(config, '127.0.0.1:9', 1000, {
    intervalMs: interval,
    unhealthyIntervalMs: interval,
    edgeIntervalMs: interval,
  });
}
