/**
 * What every builder gets, and the document frame they share.
 */
import type { ReportSource } from '../source.js';
import type { Selection } from '../selection.js';
import type { Granularity, ProgressListener, ReportDocument, ReportRequest, ReportType } from '../types.js';

/** A request with its granularity resolved, the subjects selected and the time the build runs at. */
export interface BuildContext {
  source: ReportSource;
  request: ReportRequest & { granularity: Granularity };
  selection: Selection;
  /** When the report is built, epoch ms (from the injected clock). */
  now: number;
  progress: ProgressListener;
}

/** Builds one report type. */
export type ReportBuilder = (ctx: BuildContext) => Promise<ReportDocument>;

/** The frame of a document: everything but its tables, charts and own notes. */
export function documentFrame(ctx: BuildContext, type: ReportType, title: string): ReportDocument {
  const r = ctx.request;
  return {
    schemaVersion: 1,
    type,
    title,
    generatedAt: ctx.now,
    range: { from: r.from, to: r.to, timeZone: r.timeZone },
    granularity: r.granularity,
    filters: { services: [...r.services], tags: [...r.tags], zones: [...r.zones] },
    notes: [],
    tables: [],
    charts: [],
  };
}
