import type { CheckSpec } from '../../src/core/check.js';
import { tcpCheckSchema } from '../../src/config/schema.js';

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
