/**
 * bench/fuzz: differential fuzzing of the proxy's request-head reader
 * against node:http's parser (llhttp), as bench/lib/http1-differential/index.ts
 * describes: heads from the grammar, each judged on both sides, totals by
 * judgement and differences by class. Everything runs on 127.0.0.1 in this
 * process (one node:http server, one connection per case).
 *
 *   npm run build && node dist/bench/fuzz.js [--cases 100000] [--concurrency 32] [--seed N] [--max-seconds 900]
 *
 * Prints one JSON line: cases run, rejected by both, accepted by both, ours
 * stricter on purpose (by allowance), differences by class with a few
 * example heads, the seed and the time taken. Exits 1 when a difference was
 * found. Bounded: stops at --cases or --max-seconds, whichever comes first.
 */
import * as fc from 'fast-check';
import { parseArgs } from 'node:util';
import { headArbitrary, newTally, NodeOracle, runCase } from './lib/http1-differential/index.js';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '100000' },
    concurrency: { type: 'string', default: '32' },
    seed: { type: 'string' },
    'max-seconds': { type: 'string', default: '900' },
  },
});
const cases = Number(values.cases);
const concurrency = Number(values.concurrency);
const maxSeconds = Number(values['max-seconds']);
// A seed from the clock when none is given, printed so a run can be repeated.
const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(performance.timeOrigin) % 2 ** 31;
if (!(cases >= 1) || !(concurrency >= 1) || !(maxSeconds > 0) || !Number.isInteger(seed)) {
  throw new Error('usage: fuzz.js [--cases N>=1] [--concurrency K>=1] [--seed integer] [--max-seconds S>0]');
}

const BATCH = 1000;
const arb = headArbitrary();
const oracle = await NodeOracle.start();
const tally = newTally();
const started = performance.now();
const deadline = started + maxSeconds * 1000;
let stoppedByTime = false;
try {
  for (let batch = 0; tally.cases < cases; batch++) {
    if (performance.now() > deadline) {
      stoppedByTime = true;
      break;
    }
    const heads = fc.sample(arb, { seed: seed + batch, numRuns: Math.min(BATCH, cases - tally.cases) });
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < heads.length) await runCase(oracle, heads[next++]!, tally);
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    if (batch % 10 === 9) process.stderr.write(`[fuzz] ${tally.cases} cases, ${Object.values(tally.differences).reduce((a, b) => a + b, 0)} differences\n`);
  }
} finally {
  await oracle.close();
}
const seconds = (performance.now() - started) / 1000;
const differenceCount = Object.values(tally.differences).reduce((a, b) => a + b, 0);
console.log(
  JSON.stringify({
    bench: 'fuzz',
    node: process.version,
    seed,
    casesRun: tally.cases,
    rejectedByBoth: tally.rejectedByBoth,
    acceptedByBoth: tally.acceptedByBoth,
    oursStricterAllowed: tally.allowed,
    differencesFound: differenceCount,
    differencesByClass: tally.differences,
    examples: tally.examples,
    seconds: Math.round(seconds * 10) / 10,
    casesPerSecond: Math.round(tally.cases / seconds),
    stoppedByTime,
  }),
);
if (differenceCount > 0) process.exitCode = 1;
