import { outcome, type ProbeOutcome, type Reason } from '../core/result.js';
import type { RunContext } from '../core/check.js';
import { describeError, reasonFromError } from './errors.js';
import { getJsonPath, MISSING } from './jsonpath.js';
import { formatMs, LazyAbortProbe } from './probe-support.js';
import type { BodyConditions, HttpPlan } from './http-plan.js';

/** Phase texts for timeout messages. */
export const PHASE_CONNECT = 'connecting';
export const PHASE_HEADERS = 'waiting for response headers';
export const PHASE_BODY = 'reading body';

/**
 * What every run shares, whichever client carries it: the lazily armed
 * AbortSignal listener (`handleEvent`), body accounting under
 * max_body_bytes, judging status and body, and settling exactly once
 * through finish(). Both clients judge with this code, so they agree.
 */
export abstract class ProbeBase extends LazyAbortProbe {
  /** Status of the response being read; 0 before its head. */
  protected status = 0;
  /** Body bytes received of the response being read. */
  protected received = 0;
  private chunks: Buffer[] | null = null;
  private collected = 0;
  /** Body bytes are kept for the body conditions. */
  protected collecting = false;
  /** max_body_bytes was reached: the body is judged on its first bytes. */
  protected capped = false;

  constructor(
    protected readonly plan: HttpPlan,
    ctx: RunContext,
    private readonly resolve: (o: ProbeOutcome) => void,
  ) {
    super(ctx);
  }

  /** AbortSignal listener: the attempt timed out. */
  override handleEvent(): void {
    if (this.done) return;
    const elapsed = this.clock.now() - this.t0;
    this.finish(outcome.unhealthy('timeout', `timed out after ${formatMs(elapsed)} ${this.phase()}`));
    this.cancel();
  }

  /** What the run is waiting for, for the timeout message. */
  protected abstract phase(): string;

  /** Called once the run timed out (already settled): stop the request and free its connection. */
  protected abstract cancel(): void;

  /** Called when the run settles, before it resolves: release what the run holds. */
  protected abstract release(): void;

  /** The final response's head: keep its body only when there is something to judge in it. */
  protected responseHead(status: number): void {
    this.status = status;
    // Only a response whose status passed is worth reading.
    this.collecting = this.plan.conditions !== null && this.plan.statusOk[status] === 1;
  }

  /**
   * Body bytes chunk[start, end) arrived; `copy` when chunk is reused after
   * this returns. True once the body is over max_body_bytes: the caller
   * stops reading (and judges, or fails a redirect).
   */
  protected bodyBytes(chunk: Buffer, start: number, end: number, copy: boolean): boolean {
    const cap = this.plan.maxBodyBytes;
    const n = end - start;
    this.received += n;
    if (this.collecting && this.collected < cap) {
      const take = Math.min(n, cap - this.collected);
      let part = start === 0 && take === chunk.length ? chunk : chunk.subarray(start, start + take);
      if (copy) part = Buffer.from(part);
      this.chunks ??= [];
      this.chunks.push(part);
      this.collected += take;
    }
    return this.received > cap;
  }

  protected fail(err: unknown): void {
    this.failWith(reasonFromError(err), describeError(err));
  }

  protected failWith(reason: Reason, message: string): void {
    if (this.done) return;
    const metrics = this.status !== 0 ? { status_code: this.status } : undefined;
    this.finish(outcome.unhealthy(reason, message, metrics));
  }

  /** Judges the response read: status, then body conditions, then latency. */
  protected judge(): void {
    const plan = this.plan;
    const status = this.status;
    const metrics = { status_code: status };
    if (plan.statusOk[status] !== 1) {
      this.finish(outcome.unhealthy('status_mismatch', `HTTP ${status}, expected ${plan.expectText}`, metrics));
      return;
    }
    if (plan.conditions !== null) {
      const problem = checkBody(plan.conditions, this.bodyText(), this.capped, this.collected);
      if (problem !== null) {
        this.finish(outcome.unhealthy('body_mismatch', problem, metrics));
        return;
      }
    }
    const latency = this.clock.now() - this.t0;
    if (plan.degradedAfterMs !== undefined && latency > plan.degradedAfterMs) {
      this.finish(outcome.degraded('slow', `HTTP ${status} in ${formatMs(latency)}, over degraded_after ${formatMs(plan.degradedAfterMs)}`, metrics));
      return;
    }
    this.finish(outcome.healthy(`HTTP ${status} in ${formatMs(latency)}`, metrics));
  }

  private bodyText(): string {
    const chunks = this.chunks;
    if (chunks === null) return '';
    if (chunks.length === 1) return (chunks[0] as Buffer).toString('utf8');
    return Buffer.concat(chunks, this.collected).toString('utf8');
  }

  /** Forgets the response read so far (a redirect hop starts a new one). */
  protected resetResponse(): void {
    this.status = 0;
    this.received = 0;
  }

  protected finish(result: ProbeOutcome): void {
    if (this.done) return;
    this.done = true;
    this.chunks = null;
    this.disarm();
    this.release();
    this.resolve(result);
  }
}

/** Null when every body condition holds, else one line saying which failed. */
function checkBody(c: BodyConditions, body: string, capped: boolean, bytes: number): string | null {
  const where = capped ? ` (first ${bytes} bytes)` : '';
  if (c.contains !== undefined && !body.includes(c.contains)) {
    return `body does not contain ${quote(c.contains)}${where}`;
  }
  if (c.notContains !== undefined && body.includes(c.notContains)) {
    return `body contains ${quote(c.notContains)}`;
  }
  if (c.regex !== undefined && !c.regex.test(body)) {
    return `body does not match /${c.regex.source}/${where}`;
  }
  if (c.json.length > 0) {
    let doc: unknown;
    try {
      doc = JSON.parse(body);
    } catch {
      return `body is not JSON${where}`;
    }
    for (const j of c.json) {
      const actual = getJsonPath(doc, j.steps);
      if (actual === MISSING) return `${j.path} not found in body`;
      if (actual !== j.equals) {
        return `${j.path} is ${clip(JSON.stringify(actual) ?? String(actual))}, expected ${JSON.stringify(j.equals)}`;
      }
    }
  }
  return null;
}

/** A short JSON-quoted form of s for output lines. */
export function quote(s: string): string {
  return JSON.stringify(clip(s));
}

function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
