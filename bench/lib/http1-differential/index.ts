/**
 * Differential fuzzing of the proxy's request-head reader (src/http1/request-head.ts)
 * against node's own HTTP parser (llhttp, through a real node:http server on
 * 127.0.0.1): a grammar of request heads full of smuggling shapes, an oracle
 * that reports what node:http made of each head, and the rule that judges
 * the two, one file each. Shared by bench/fuzz.ts (100,000 cases and more) and
 * test/http1/differential.test.ts (2,000 in CI).
 *
 * The rule (issue 14): every head node rejects, ours rejects; every head
 * both accept gives the same method, target, version, headers (names and
 * values as the proxy relays them) and body framing. Ours may refuse what
 * node accepts only where ALLOWED_STRICTER lists it, with the reason.
 *
 * Why a socket and not node's parser object: node:http's parser binding is
 * internal (process.binding, deprecated), and node:http adds its own checks
 * on top of llhttp (a missing Host is a 400, Expect and Upgrade change what
 * follows): the server the proxy hands connections to is the one to agree
 * with.
 *
 * How node's framing is seen: each head is sent with BODY_PROBE after it,
 * the chunked encoding of "hello". Read as chunked, the body is "hello";
 * with Content-Length N, the body is BODY_PROBE's first N bytes (or all of
 * them and still waiting, when N is larger); with no body, it is empty and
 * BODY_PROBE is read as a next request, which node's server ignores here.
 */
export { headArbitrary } from './grammar.js';
export { NodeOracle } from './node-oracle.js';
export { ALLOWED_STRICTER, judge, type AllowedStricter, type Judgement } from './rule.js';
export { newTally, runCase, type DifferentialTally } from './tally.js';
export { BODY_PROBE, oursVerdict, type Accepted, type Framing, type Rejected, type Verdict } from './verdicts.js';
