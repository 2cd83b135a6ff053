import { describe, expect, it } from 'vitest';
import { descriptorsNeeded, descriptorWarning, openFileLimit } from '../../src/scheduler/descriptors.js';
import { httpSpec, tcpSpec } from '../helpers/spec.js';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            20000                20000                files
`;

describe('descriptors the checks need', () => {
  it('reads the soft RLIMIT_NOFILE from /proc/self/limits text', () => {
    expect(openFileLimit(LIMITS)).toBe(20000);
    expect(openFileLimit('Max open files            unlimited            unlimited            files\n')).toBe(Number.POSITIVE_INFINITY);
    expect(openFileLimit('nothing here')).toBeNull();
  });

  it('counts a kept connection for each http check run under 4 s, none for slower ones or tcp', () => {
    const fast = Array.from({ length: 30 }, (_, i) => ({ ...httpSpec(`127.0.0.1:${1000 + i}`), id: `f${i}`, intervalMs: 1000 }));
    const slow = Array.from({ length: 30 }, (_, i) => ({ ...httpSpec(`127.0.0.1:${2000 + i}`), id: `s${i}`, intervalMs: 10_000 }));
    const kept = Array.from({ length: 5 }, (_, i) => ({ ...httpSpec(`127.0.0.1:${3000 + i}`, { reuse_connections: true }), id: `k${i}` }));
    const tcp = Array.from({ length: 10 }, (_, i) => ({ ...tcpSpec(`127.0.0.1:${4000 + i}`), id: `t${i}` }));
    expect(descriptorsNeeded([...fast, ...slow, ...kept, ...tcp], 8)).toEqual({ kept: 35, total: 64 + 35 + 8 });
  });

  it('warns, naming the limit and the way out, only when the need passes the limit', () => {
    const specs = Array.from({ length: 100 }, (_, i) => ({ ...httpSpec(`127.0.0.1:${1000 + i}`, { reuse_connections: true }), id: `c${i}` }));
    expect(descriptorWarning(specs, 512, 1000)).toBeNull();
    const warning = descriptorWarning(specs, 512, 200);
    expect(warning).toMatch(/need 264 open files \(100 kept connections, up to 512 probes in flight\) but this process may open 200 \(RLIMIT_NOFILE\)/);
    expect(warning).toMatch(/ulimit -n/);
    expect(descriptorWarning(specs, 512, null)).toBeNull();
  });
});
