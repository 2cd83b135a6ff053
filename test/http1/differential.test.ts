/**
 * The proxy's request-head reader against node:http's parser (llhttp), on
 * heads from the grammar of bench/lib/http1-differential/ (smuggling
 * shapes included): every head node refuses, ours refuses; every head both
 * accept reads the same (method, target, version, headers, body framing).
 * Ours refuses more than node only where ALLOWED_STRICTER says why; each of
 * those is shown below with its example. bench/fuzz.ts runs the same rule
 * on 100,000 heads and more.
 *
 * FUZZ_SEED=n repeats a run (the seed is in the failure message).
 */
import * as fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALLOWED_STRICTER, headArbitrary, judge, newTally, NodeOracle, oursVerdict, runCase } from '../../bench/lib/http1-differential/index.js';

const CASES = 2000;
const IN_FLIGHT = 16;

let oracle: NodeOracle;
beforeAll(async () => {
  oracle = await NodeOracle.start();
});
afterAll(async () => {
  await oracle.close();
});

/**
 * Differences the fuzzing found, fixed in request-head.ts: each head is
 * judged afresh, and must now be refused by both or read alike.
 */
const FIXED: [string, string][] = [
  ['a method node does not know (ours took any token)', 'FOO / HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['an RTSP method', 'DESCRIBE / HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['a one-letter token method', 'L / HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['CONNECT (node closes the connection: no tunnel listener)', 'CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['an authority-form target', 'GET example.com:443 HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['a target starting with neither / nor * nor a scheme', 'OPTIONS 58ZW<f>+R. HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['a scheme with other than letters', 'GET h+t-t.p://x/ HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['absolute-form with a byte node refuses in the authority', 'GET http://a<b/ HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['absolute-form with a fragment right after the authority', 'GET http://h#f HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['two empty lines before the request line (ours took them for the end of the head)', '\r\n\r\nGET /health HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['Transfer-Encoding: chunked and a trailing comma (ours skipped the empty element)', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked,\r\n\r\n'],
  ['Transfer-Encoding: chunked and an HT (node: another coding; ours trimmed it)', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\t\r\n\r\n'],
  ['Transfer-Encoding: chunked, HT and SP', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\t \r\n\r\n'],
  ['Content-Length and an HT (node refuses; ours trimmed it)', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\t\r\n\r\n'],
  ['Content-Length, SP and HT', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100 \t\r\n\r\n'],
];

describe('request-head reader against node:http (llhttp)', () => {
  it(`agrees on ${CASES} generated heads, or is stricter only where it says why`, async () => {
    const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const heads = fc.sample(headArbitrary(), { seed, numRuns: CASES });
    const tally = newTally();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < heads.length) await runCase(oracle, heads[next++]!, tally);
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    expect(tally.cases).toBe(CASES);
    // Both sides must have something to say: a grammar that only produced garbage would prove nothing.
    expect(tally.acceptedByBoth).toBeGreaterThan(CASES / 10);
    expect(tally.rejectedByBoth).toBeGreaterThan(CASES / 10);
    expect({ seed, differences: tally.differences, examples: tally.examples }).toEqual({ seed, differences: {}, examples: {} });
  }, 120_000);

  it.each(FIXED)('fixed: %s', async (_what, head) => {
    const j = judge(head, oursVerdict(head), await oracle.verdict(head));
    expect(['rejected-by-both', 'accepted-by-both']).toContain(j.kind);
  });

  it('reads two empty lines before the request line as node does', async () => {
    const head = '\r\n\r\nGET /health HTTP/1.1\r\nHost: a\r\n\r\n';
    expect(judge(head, oursVerdict(head), await oracle.verdict(head))).toEqual({ kind: 'accepted-by-both' });
  });

  // Where ours refuses on purpose what node accepts: the reason is in ALLOWED_STRICTER.
  it.each(ALLOWED_STRICTER.map((a) => [a.name, a] as const))('stricter on purpose: %s', async (_name, allowance) => {
    const head = allowance.example;
    const node = await oracle.verdict(head);
    const ours = oursVerdict(head);
    expect(node.ok).toBe(true);
    expect(ours.ok).toBe(false);
    expect(judge(head, ours, node)).toEqual({ kind: 'allowed', name: allowance.name });
  });

  it('counts a head ours accepts and node refuses as a difference, never as allowed', () => {
    const head = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n';
    expect(judge(head, oursVerdict(head), { ok: false, code: 'HPE_TEST' })).toMatchObject({ kind: 'difference', cls: 'ours-accepts-node-rejects' });
  });
});
