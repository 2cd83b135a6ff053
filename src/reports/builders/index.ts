/** Every report type's builder, one line each. */
import type { ReportType } from '../types.js';
import { buildAlerts } from './alerts.js';
import type { ReportBuilder } from './context.js';
import { buildDetailed } from './detailed.js';
import { buildMetrics } from './metrics.js';
import { buildSummary } from './summary.js';
import { buildTrends } from './trends.js';

export const reportBuilders = {
  summary: buildSummary,
  detailed: buildDetailed,
  metrics: buildMetrics,
  alerts: buildAlerts,
  trends: buildTrends,
} satisfies Record<ReportType, ReportBuilder>;
