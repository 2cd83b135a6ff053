/**
 * When a member's new health score is worth a picker rebuild. Feeds push
 * scores often (every result moves the EWMAs a little), and a rebuild costs
 * the whole service (a Maglev table ~0.5 s at 10k members), so small drifts
 * are dropped.
 */

/** Score change (0–100) that makes a member's weight be re-evaluated: a smaller one moves weights by under 5 %. */
export const SCORE_STEP = 5;

/**
 * Take `score` (0–100) into `member`; returns whether the rotation must be
 * rebuilt. With `useScore` off the score only shows in snapshots, so it is
 * always taken and never rebuilds; with it on, only a step of at least
 * {@link SCORE_STEP} is taken (the member keeps the score its weight was
 * computed from).
 */
export function applyScore(member: { score: number }, score: number, useScore: boolean): boolean {
  if (!useScore) {
    member.score = score;
    return false;
  }
  if (Math.abs(score - member.score) < SCORE_STEP) return false;
  member.score = score;
  return true;
}
