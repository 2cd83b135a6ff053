/** Running cases and counting them by judgement (bench/fuzz.ts and the CI test). */
import type { NodeOracle } from './node-oracle.js';
import { judge, type Judgement } from './rule.js';
import { oursVerdict } from './verdicts.js';

/** Totals of a run, by judgement. */
export interface DifferentialTally {
  cases: number;
  rejectedByBoth: number;
  acceptedByBoth: number;
  /** Ours stricter on purpose, by ALLOWED_STRICTER name. */
  allowed: Record<string, number>;
  /** Differences by class. */
  differences: Record<string, number>;
  /** A few heads of each difference class, with the detail. */
  examples: Record<string, { head: string; detail: string }[]>;
}

/** An empty tally. */
export function newTally(): DifferentialTally {
  return { cases: 0, rejectedByBoth: 0, acceptedByBoth: 0, allowed: {}, differences: {}, examples: {} };
}

/** Judges `head` on both sides and counts it into `tally`; returns the judgement. */
export async function runCase(oracle: NodeOracle, head: string, tally: DifferentialTally): Promise<Judgement> {
  const node = await oracle.verdict(head);
  const j = judge(head, oursVerdict(head), node);
  tally.cases++;
  if (j.kind === 'rejected-by-both') tally.rejectedByBoth++;
  else if (j.kind === 'accepted-by-both') tally.acceptedByBoth++;
  else if (j.kind === 'allowed') tally.allowed[j.name] = (tally.allowed[j.name] ?? 0) + 1;
  else {
    tally.differences[j.cls] = (tally.differences[j.cls] ?? 0) + 1;
    const list = tally.examples[j.cls] ?? [];
    tally.examples[j.cls] = list;
    if (list.length < 3) list.push({ head: head.length > 300 ? `${head.slice(0, 300)}…(${head.length} bytes)` : head, detail: j.detail });
  }
  return j;
}
