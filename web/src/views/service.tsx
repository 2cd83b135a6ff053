/**
 * One service: its instances (status, score, latency and what the balancer
 * does with each, with the ejection explained), its dependency graph, SLO and
 * error budget, and uptime per day. Instance statuses follow the live stream;
 * the balancer state is read again after this service's transitions (never
 * on a timer).
 */
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import {
  getAnalysis,
  getBalancer,
  getServiceDetail,
  getServiceUptimeDays,
  type Analysis,
  type BalancerSnapshot,
  type InstanceRow,
  type ServiceDetail,
} from '../api';
import { DepGraph, type GraphService } from '../components/dep-graph';
import { Show } from '../components/notice';
import { StatusLabel } from '../components/status';
import { UptimeBars } from '../components/uptime-bars';
import { formatDuration, formatMs, formatPercent, formatTime } from '../format';
import { useLoad, useSubscribe, type Loaded } from '../hooks';
import type { MeshStore } from '../mesh-store';
import { href } from '../router';

const INSTANCES_PAGE = 50;
/** Transitions of this service are followed by one balancer read this much later (a burst costs one). */
const BALANCER_SETTLE_MS = 1500;

export function ServiceView({ store, name }: { store: MeshStore; name: string }) {
  useSubscribe(useCallback((l: () => void) => store.subscribe(l), [store]));
  const [offset, setOffset] = useState(0);
  const [detail, reloadDetail] = useLoad(() => getServiceDetail(name, offset, INSTANCES_PAGE), [name, offset]);
  const [balancer, reloadBalancer] = useLoad(() => getBalancer(name), [name]);
  const [uptime] = useLoad(() => getServiceUptimeDays(name, 30), [name]);
  const [analysis] = useLoad(() => getAnalysis(name), [name]);
  const [instances, setInstances] = useState<InstanceRow[] | null>(null);

  useEffect(() => setInstances(detail.state === 'ok' ? detail.value.instances : null), [detail]);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const off = store.onTransition((t) => {
      if (t.service !== name) return;
      setInstances((rows) => rows?.map((r) => (r.id === t.instance ? { ...r, status: t.inst.status, score: t.inst.score } : r)) ?? null);
      clearTimeout(timer);
      timer = setTimeout(reloadBalancer, BALANCER_SETTLE_MS);
    });
    return () => {
      off();
      clearTimeout(timer);
    };
  }, [store, name]);
  useEffect(() => {
    document.title = `${name} · healthmesh`;
  }, [name]);

  const live = store.services.get(name);
  const graphServices = useMemo(() => {
    const m = new Map<string, GraphService>();
    for (const s of store.services.values()) m.set(s.name, s);
    return m;
  }, [store.version]);

  if (detail.state === 'error') {
    return (
      <section>
        <h1 tabIndex={-1}>{name}</h1>
        <Show loaded={detail} what="the service">
          {() => null}
        </Show>
      </section>
    );
  }
  const d = detail.state === 'ok' ? detail.value : null;
  const status = live?.status ?? d?.status ?? 'UNKNOWN';
  return (
    <section aria-labelledby="service-title">
      <p class="crumbs">
        <a href={href.mesh()}>Mesh</a> / service
      </p>
      <h1 id="service-title" tabIndex={-1}>
        {name} <StatusLabel status={status} />
      </h1>
      {d ? (
        <ServiceFacts detail={d} score={live?.score ?? d.score} cause={live?.cause ?? d.cause} counts={live?.counts ?? d.counts} />
      ) : (
        <Show loaded={detail} what="the service">
          {() => null}
        </Show>
      )}

      <h2>Instances</h2>
      {d && instances && (
        <>
          <InstanceTable service={name} rows={instances} balancer={balancer} />
          {d.total > INSTANCES_PAGE && (
            <nav class="pager" aria-label="Instance pages">
              <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - INSTANCES_PAGE))}>
                Previous
              </button>
              <span>
                {offset + 1}–{Math.min(d.total, offset + INSTANCES_PAGE)} of {d.total}, worst first
              </span>
              <button type="button" disabled={offset + INSTANCES_PAGE >= d.total} onClick={() => setOffset(offset + INSTANCES_PAGE)}>
                Next
              </button>
            </nav>
          )}
          <button type="button" class="link-button" onClick={reloadDetail}>
            Read latencies again
          </button>
        </>
      )}

      <h2>Balancer</h2>
      <Show loaded={balancer} what="the balancer">
        {(b) => <BalancerFacts b={b} />}
      </Show>

      <h2>Dependencies</h2>
      {d && <DepGraph focus={name} services={graphServices} dependents={d.dependents} />}

      <h2>SLO and error budget</h2>
      <Show loaded={analysis} what="the analysis" unavailable="The analysis is not available.">
        {(a) => <AnalysisFacts a={a} />}
      </Show>

      <h2>Uptime per day</h2>
      <Show loaded={uptime} what="uptime">
        {(u) => (
          <>
            <UptimeBars days={u.days} label={`Uptime of ${name} per day, last 30 days`} />
            {u.source === 'rollups' && (
              <p class="muted small">
                Estimated from stored check results (share of passing results); exact uptime from transitions replaces it when the daemon has the uptime route.
              </p>
            )}
            {u.source === 'none' && <p class="muted small">This daemon keeps no history: no uptime.</p>}
          </>
        )}
      </Show>
    </section>
  );
}

function ServiceFacts({ detail, score, cause, counts }: { detail: ServiceDetail; score: number; cause: string | null; counts: ServiceDetail['counts'] }) {
  return (
    <dl class="facts">
      <div>
        <dt>Score</dt>
        <dd>{score}</dd>
      </div>
      <div>
        <dt>Instances</dt>
        <dd>
          {counts.HEALTHY} healthy, {counts.DEGRADED} degraded, {counts.UNHEALTHY} unhealthy, {counts.UNKNOWN} unknown
        </dd>
      </div>
      <div>
        <dt>Latency (5 min)</dt>
        <dd>{detail.latency ? `mean ${formatMs(detail.latency.avgMs)}, max ${formatMs(detail.latency.maxMs)}` : 'no results yet'}</dd>
      </div>
      <div>
        <dt>Critical</dt>
        <dd>{detail.critical ? 'yes: down makes the mesh UNHEALTHY' : 'no'}</dd>
      </div>
      {cause && (
        <div>
          <dt>Cause</dt>
          <dd>{cause}</dd>
        </div>
      )}
      {detail.tags.length > 0 && (
        <div>
          <dt>Tags</dt>
          <dd>{detail.tags.join(', ')}</dd>
        </div>
      )}
      {detail.zones.length > 0 && (
        <div>
          <dt>Zones</dt>
          <dd>{detail.zones.join(', ')}</dd>
        </div>
      )}
    </dl>
  );
}

type Member = BalancerSnapshot['instances'][number];

/** Why the balancer does what it does with one instance, in words. */
function ejection(m: Member | undefined): string {
  if (!m) return '–';
  const parts: string[] = [];
  if (m.outlier?.ejected)
    parts.push(`ejected${m.outlier.reason ? `: ${m.outlier.reason}` : ''}${m.outlier.returnsAt ? ` (returns ${formatTime(m.outlier.returnsAt)})` : ''}`);
  if (m.breaker?.state === 'open') parts.push(`breaker open${m.breaker.reopensAt ? ` until ${formatTime(m.breaker.reopensAt)}` : ''}`);
  if (m.slowStart) parts.push(`slow start at ${Math.round(m.slowStart.factor * 100)}%`);
  if (!m.usable && parts.length === 0) parts.push(m.weight === 0 ? 'weight 0' : `not healthy (${m.status.toLowerCase()})`);
  return parts.length ? parts.join('; ') : 'usable';
}

function InstanceTable({ service, rows, balancer }: { service: string; rows: InstanceRow[]; balancer: Loaded<BalancerSnapshot> }) {
  const members = new Map(balancer.state === 'ok' ? balancer.value.instances.map((m) => [m.id, m]) : []);
  const hasBalancer = balancer.state === 'ok';
  return (
    <div class="table-wrap">
      <table class="instances">
        <thead>
          <tr>
            <th scope="col">Status</th>
            <th scope="col">Instance</th>
            <th scope="col" class="num">
              Score
            </th>
            <th scope="col" class="num">
              Latency
            </th>
            <th scope="col" class="hide-narrow">
              Zone
            </th>
            {hasBalancer && (
              <>
                <th scope="col">In rotation</th>
                <th scope="col" class="num hide-narrow">
                  Eff. weight
                </th>
                <th scope="col" class="hide-narrow">
                  Breaker
                </th>
                <th scope="col">Balancer says</th>
              </>
            )}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => {
            const m = members.get(r.id) ?? members.get(r.address);
            return (
              <tr key={r.id} data-instance={r.id} data-status={r.status}>
                <td>
                  <StatusLabel status={r.status} />
                </td>
                <th scope="row">
                  <a href={href.instance(service, r.id)}>{r.id}</a>
                  <div class="muted small">{r.address}</div>
                </th>
                <td class="num">{r.score}</td>
                <td class="num">{formatMs(r.latencyMs)}</td>
                <td class="hide-narrow">{r.zone ?? '–'}</td>
                {hasBalancer && (
                  <>
                    <td>{m ? (m.inRotation ? 'yes' : 'no') : '–'}</td>
                    <td class="num hide-narrow">{m ? m.effectiveWeight.toFixed(2) : '–'}</td>
                    <td class="hide-narrow">{m?.breaker ? `${m.breaker.state}${m.breaker.opens ? ` (opened ${m.breaker.opens}×)` : ''}` : 'none'}</td>
                    <td class="explain">{ejection(m)}</td>
                  </>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function BalancerFacts({ b }: { b: BalancerSnapshot }) {
  return (
    <dl class="facts">
      <div>
        <dt>Picker</dt>
        <dd>{b.picker}</dd>
      </div>
      <div>
        <dt>Usable share</dt>
        <dd>
          {Math.round(b.healthyShare * 100)}% (panic under {Math.round(b.panicThreshold * 100)}%)
        </dd>
      </div>
      <div>
        <dt>Panic</dt>
        <dd>{b.panic ? 'yes: balancing over every instance because too few are usable' : 'no'}</dd>
      </div>
      {b.zone && (
        <div>
          <dt>Zone</dt>
          <dd>
            local {b.zone.local}, {b.zone.usingLocal ? 'using the local zone' : 'spilling over to other zones'}
          </dd>
        </div>
      )}
    </dl>
  );
}

function AnalysisFacts({ a }: { a: Analysis }) {
  const slo = a.slo;
  const crossing = a.forecast?.crossing;
  return (
    <>
      {a.maintenance && (
        <p class="notice">
          In maintenance ({a.maintenance.name}) until {formatTime(a.maintenance.end)}: status is still recorded and shown; alerts are muted.
        </p>
      )}
      {slo ? (
        <dl class="facts">
          <div>
            <dt>Objective</dt>
            <dd>
              {formatPercent(slo.objective * 100, 3)}{' '}
              {slo.kind === 'latency' ? `of minutes with p95 ≤ ${formatMs(slo.latencyThresholdMs ?? 0)}` : 'of results passing'} over{' '}
              {formatDuration(slo.windowMs)}
              {slo.excludeMaintenance ? ', maintenance left out' : ''}
            </dd>
          </div>
          <div>
            <dt>Attained</dt>
            <dd>{slo.attainment === null ? 'no events yet' : formatPercent(slo.attainment * 100, 3)}</dd>
          </div>
          <div>
            <dt>Error budget left</dt>
            <dd>
              <meter min={0} max={1} low={0.25} high={0.5} optimum={1} value={Math.max(0, slo.budgetRemaining)} aria-label="Error budget left" />{' '}
              {Math.round(slo.budgetRemaining * 100)}%{slo.budgetRemaining < 0 ? ' (overspent)' : ''}
            </dd>
          </div>
          <div>
            <dt>Burn rate</dt>
            <dd>{slo.firing ? `firing (${slo.firing})` : 'within budget'}</dd>
          </div>
        </dl>
      ) : (
        <p class="muted">No SLO: {a.reasons.slo ?? 'none is set for this service'}.</p>
      )}
      {a.trend ? (
        <p>
          Trend: <strong>{a.trend.direction}</strong> (confidence {Math.round(a.trend.confidence * 100)}%)
        </p>
      ) : (
        <p class="muted">No trend yet: {a.reasons.trend}</p>
      )}
      {a.forecast ? (
        <p>
          {crossing?.already
            ? 'The score is under 50 now.'
            : crossing?.at
              ? `Forecast to fall under ${crossing.threshold} around ${formatTime(crossing.at)}${crossing.earliest ? ` (not before ${formatTime(crossing.earliest)})` : ''}.`
              : 'Not forecast to fall under 50 within reach.'}
        </p>
      ) : (
        <p class="muted">No forecast: {a.reasons.forecast}</p>
      )}
      {a.anomalies === null ? (
        <p class="muted">{a.reasons.anomalies}</p>
      ) : a.anomalies.length > 0 ? (
        <p>
          {a.anomalies.length} anomal{a.anomalies.length === 1 ? 'y' : 'ies'} flagged recently, the last at {formatTime(a.anomalies[0]!.at)} (
          {a.anomalies[0]!.series} of {a.anomalies[0]!.subject}).
        </p>
      ) : (
        <p class="muted">No anomaly flagged recently.</p>
      )}
    </>
  );
}
