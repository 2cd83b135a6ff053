/**
 * The alerts report: alerts fired and resolved in the range, time to
 * resolve, notifications delivered per notifier, the noisiest rules and
 * what root-cause suppression folded away, read from the alert records'
 * timelines. A store without alert data gets a report that says so, with
 * empty tables, never invented figures.
 */
import type { AlertRecord } from '../../alerts/types.js';
import { TableBuilder } from '../table.js';
import type { ReportDocument } from '../types.js';
import { documentFrame, type BuildContext } from './context.js';

export async function buildAlerts(ctx: BuildContext): Promise<ReportDocument> {
  const { source, request, selection } = ctx;
  const { from, to } = request;
  const doc = documentFrame(ctx, 'alerts', 'Alerts and notifications');
  const rules = new TableBuilder('rules', 'Rules', 'One row per rule that fired in the range, noisiest first.', [
    ['rule', 'Rule', 'text'],
    ['level', 'Level', 'text'],
    ['fired', 'Fired', 'integer'],
    ['resolved', 'Resolved', 'integer'],
    ['mean_time_to_resolve_ms', 'Mean time to resolve', 'duration'],
    ['longest_time_to_resolve_ms', 'Longest time to resolve', 'duration'],
    ['reminders', 'Reminders', 'integer'],
    ['suppressed', 'Suppressed', 'integer'],
  ] as const);
  const episodes = new TableBuilder('alerts', 'Alerts', 'One row per firing of an alert that began or ended in the range.', [
    ['fired_at', 'Fired', 'time'],
    ['resolved_at', 'Resolved', 'time'],
    ['time_to_resolve_ms', 'Time to resolve', 'duration'],
    ['rule', 'Rule', 'text'],
    ['level', 'Level', 'text'],
    ['service', 'Service', 'text'],
    ['instance', 'Instance', 'text'],
    ['summary', 'Summary', 'text'],
  ] as const);
  const notifiers = new TableBuilder('notifiers', 'Notifiers', 'Deliveries per notifier in the range, and its queue now.', [
    ['notifier', 'Notifier', 'text'],
    ['delivered', 'Delivered', 'integer'],
    ['failed_tries', 'Failed tries', 'integer'],
    ['dead_letters', 'Dead letters', 'integer'],
    ['queued_now', 'Queued now', 'integer'],
    ['last_error', 'Last error', 'text'],
  ] as const);
  const suppressed = new TableBuilder(
    'suppressed',
    'Suppressed as root cause',
    'Alerts folded into a root alert (their service depends on one that was down).',
    [
      ['at', 'At', 'time'],
      ['rule', 'Rule', 'text'],
      ['service', 'Service', 'text'],
      ['instance', 'Instance', 'text'],
      ['detail', 'Detail', 'text'],
    ] as const,
  );
  doc.tables.push(rules.table, episodes.table, notifiers.table, suppressed.table);

  if (!source.alerts) {
    doc.notes.push(
      'No alert data: this store holds no alert records (alerting is not configured, or its state is kept in another file, alerts.outbox.path). No alert figures are shown.',
    );
    return doc;
  }
  doc.notes.push(
    "From the alert records' timelines (each keeps its newest 200 entries): a firing counts when it began in the range, a resolve when it happened in the range; time to resolve is from the firing to its resolve.",
  );
  const services = new Set(selection.services);
  const filtered = request.services.length > 0 || request.tags.length > 0 || request.zones.length > 0;
  const records = (await source.alerts.loadAlerts()).filter((r) => !filtered || services.has(r.labels.service ?? ''));
  ctx.progress({ stage: 'alerts', done: 0, total: records.length });

  type RuleAgg = { level: string; fired: number; resolved: number; ttr: number[]; reminders: number; suppressed: number };
  const byRule = new Map<string, RuleAgg>();
  const perNotifier = new Map<string, { delivered: number; failed: number; dead: number }>();
  const agg = (r: AlertRecord): RuleAgg => {
    let a = byRule.get(r.rule);
    if (!a) {
      a = { level: r.level, fired: 0, resolved: 0, ttr: [], reminders: 0, suppressed: 0 };
      byRule.set(r.rule, a);
    }
    return a;
  };
  const inRange = (t: number): boolean => t >= from && t < to;
  const episodeRows: Array<Parameters<typeof episodes.add>[0]> = [];
  records.forEach((r, n) => {
    let firedAt: number | null = null;
    for (const e of r.timeline) {
      if (e.type === 'firing') {
        firedAt = e.at;
        if (inRange(e.at)) agg(r).fired++;
        if (inRange(e.at) && !r.timeline.some((x) => x.type === 'resolved' && x.at >= e.at)) {
          episodeRows.push(episode(r, e.at, null));
        }
      } else if (e.type === 'resolved') {
        if (inRange(e.at)) {
          const a = agg(r);
          a.resolved++;
          if (firedAt !== null) a.ttr.push(e.at - firedAt);
        }
        if (firedAt !== null && (inRange(firedAt) || inRange(e.at))) episodeRows.push(episode(r, firedAt, e.at));
        firedAt = null;
      } else if (inRange(e.at)) {
        if (e.type === 'reminder') agg(r).reminders++;
        else if (e.type === 'suppressed') {
          agg(r).suppressed++;
          suppressed.add({ at: e.at, rule: r.rule, service: r.labels.service ?? null, instance: r.labels.instance ?? null, detail: e.detail ?? null });
        } else if (e.notifier !== undefined && (e.type === 'delivered' || e.type === 'delivery_failed' || e.type === 'dead_letter')) {
          const p = perNotifier.get(e.notifier) ?? { delivered: 0, failed: 0, dead: 0 };
          if (e.type === 'delivered') p.delivered++;
          else if (e.type === 'delivery_failed') p.failed++;
          else p.dead++;
          perNotifier.set(e.notifier, p);
        }
      }
    }
    if (n % 100 === 0) ctx.progress({ stage: 'alerts', done: n, total: records.length });
  });
  episodeRows.sort((a, b) => (a.fired_at as number) - (b.fired_at as number));
  for (const row of episodeRows) episodes.add(row);
  for (const [rule, a] of [...byRule].sort((x, y) => y[1].fired - x[1].fired || (x[0] < y[0] ? -1 : 1))) {
    if (a.fired === 0 && a.resolved === 0 && a.suppressed === 0) continue;
    rules.add({
      rule,
      level: a.level,
      fired: a.fired,
      resolved: a.resolved,
      mean_time_to_resolve_ms: a.ttr.length ? Math.round(a.ttr.reduce((s, x) => s + x, 0) / a.ttr.length) : null,
      longest_time_to_resolve_ms: a.ttr.length ? Math.max(...a.ttr) : null,
      reminders: a.reminders,
      suppressed: a.suppressed,
    });
  }
  const stats = await source.alerts.notifierStats();
  const names = new Set([...perNotifier.keys(), ...stats.map((s) => s.notifier)]);
  for (const name of [...names].sort()) {
    const p = perNotifier.get(name) ?? { delivered: 0, failed: 0, dead: 0 };
    const s = stats.find((x) => x.notifier === name);
    notifiers.add({
      notifier: name,
      delivered: p.delivered,
      failed_tries: p.failed,
      dead_letters: p.dead,
      queued_now: s?.queued ?? 0,
      last_error: s?.lastError ?? null,
    });
  }
  if (records.length === 0) doc.notes.push(`The alert state holds no alerts${filtered ? ' of the selected services.' : '.'}`);
  return doc;
}

function episode(r: AlertRecord, firedAt: number, resolvedAt: number | null) {
  return {
    fired_at: firedAt,
    resolved_at: resolvedAt,
    time_to_resolve_ms: resolvedAt === null ? null : resolvedAt - firedAt,
    rule: r.rule,
    level: r.level,
    service: r.labels.service ?? null,
    instance: r.labels.instance ?? null,
    summary: r.summary,
  };
}
