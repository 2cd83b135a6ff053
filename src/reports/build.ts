/**
 * Building a report document: the request checked (each problem names its
 * field), the granularity resolved, the subjects selected, and the type's
 * builder run.
 */
import { UsageError } from '../core/errors.js';
import { reportBuilders } from './builders/index.js';
import { autoGranularity, checkTimeZone } from './periods.js';
import { selectSubjects } from './selection.js';
import type { ReportSource } from './source.js';
import { GRANULARITIES, REPORT_TYPES, type ProgressListener, type ReportDocument, type ReportRequest } from './types.js';

/** Most periods a report may cut its range into (a year of hours fits; a year of minutes does not). */
export const MAX_PERIODS = 10_000;

/** Throws a UsageError naming the field when the request cannot be served. */
export function checkRequest(request: ReportRequest): void {
  if (!REPORT_TYPES.includes(request.type)) throw new UsageError(`type: "${request.type}" is not a report type (use ${REPORT_TYPES.join(', ')})`);
  for (const [name, v] of [
    ['from', request.from],
    ['to', request.to],
  ] as const) {
    if (!Number.isFinite(v)) throw new UsageError(`${name}: not a time (use an ISO date, epoch ms, or a duration back from now such as 30d)`);
  }
  if (request.from >= request.to)
    throw new UsageError(`from: ${new Date(request.from).toISOString()} is not before to (${new Date(request.to).toISOString()})`);
  checkTimeZone(request.timeZone);
  if (request.granularity !== 'auto' && !GRANULARITIES.includes(request.granularity)) {
    throw new UsageError(`granularity: "${String(request.granularity)}" is not one of auto, ${GRANULARITIES.join(', ')}`);
  }
  const o = request.sloObjective;
  if (o !== undefined && !(o > 0 && o < 1)) throw new UsageError(`slo: ${o} is not an objective in (0, 1) (e.g. 0.999)`);
}

/** Build the document a request asks for. `now` is the build time (epoch ms, from the caller's clock). */
export async function buildReport(
  source: ReportSource,
  request: ReportRequest,
  options: { now: number; progress?: ProgressListener },
): Promise<ReportDocument> {
  checkRequest(request);
  const granularity = request.granularity === 'auto' ? autoGranularity(request.from, request.to) : request.granularity;
  const periodMs = { minute: 60_000, hour: 3_600_000, day: 86_400_000 }[granularity];
  if ((request.to - request.from) / periodMs > MAX_PERIODS) {
    throw new UsageError(`granularity: ${granularity} cuts the range into more than ${MAX_PERIODS} periods (use a coarser one, or auto)`);
  }
  const selection = await selectSubjects(source, request);
  return reportBuilders[request.type]({
    source,
    request: { ...request, granularity },
    selection,
    now: options.now,
    progress: options.progress ?? (() => undefined),
  });
}
