/**
 * One instance: where it is, its checks with their last result (each a link
 * to its check view), its uptime, and its latency over a range from the
 * instance rollups (said plainly when the daemon lacks those routes).
 */
import { useEffect, useState } from 'preact/hooks';
import { getInstance, getRollups, getUptime } from '../api';
import { LatencyChart } from '../components/latency-chart';
import { Show } from '../components/notice';
import { rangeFromParams, RangePicker, stepFor, type Range } from '../components/range-picker';
import { StatusLabel } from '../components/status';
import { Timeline } from '../components/timeline';
import { formatDuration, formatMs, formatPercent, formatTime } from '../format';
import { pointsFromRollups, segmentsFromRollups } from '../history';
import { useLoad } from '../hooks';
import type { MeshStore } from '../mesh-store';
import { href, replaceParams } from '../router';

const STEP_MS = { '1m': 60_000, '1h': 3_600_000 } as const;
const UPTIME_WINDOW_MS = 30 * 86_400_000;

export function InstanceView({ store, service, id, params }: { store: MeshStore; service: string; id: string; params: URLSearchParams }) {
  const key = `${service}/${id}`;
  const [changes, setChanges] = useState(0);
  const [range, setRange] = useState<Range>(() => rangeFromParams(params, Date.now()));
  const [instance] = useLoad(() => getInstance(key), [key, changes]);
  const [uptime] = useLoad(() => getUptime('instances', key, Date.now() - UPTIME_WINDOW_MS, Date.now()), [key]);
  const step = stepFor(range);
  const [rollups] = useLoad(() => getRollups('instances', key, step, range.from, range.to), [key, range.from, range.to]);
  useEffect(() => store.onTransition((t) => t.service === service && t.instance === id && setChanges((n) => n + 1)), [store, service, id]);
  useEffect(() => {
    document.title = `${key} · healthmesh`;
  }, [key]);
  const choose = (r: Range): void => {
    setRange(r);
    replaceParams(new URLSearchParams(r.name === 'custom' ? { range: r.name, from: String(r.from), to: String(r.to) } : { range: r.name }));
  };
  return (
    <section aria-labelledby="instance-title">
      <p class="crumbs">
        <a href={href.mesh()}>Mesh</a> / <a href={href.service(service)}>{service}</a> / instance
      </p>
      <h1 id="instance-title" tabIndex={-1}>
        {key} {instance.state === 'ok' && <StatusLabel status={instance.value.status} />}
      </h1>
      <Show loaded={instance} what="the instance">
        {(i) => (
          <>
            <dl class="facts">
              <div>
                <dt>Address</dt>
                <dd>{i.address}</dd>
              </div>
              <div>
                <dt>Score</dt>
                <dd>{i.score}</dd>
              </div>
              <div>
                <dt>Zone</dt>
                <dd>{i.zone ?? '–'}</dd>
              </div>
              <div>
                <dt>Weight</dt>
                <dd>{i.weight}</dd>
              </div>
              <div>
                <dt>Source</dt>
                <dd>{i.source}</dd>
              </div>
              {i.tags.length > 0 && (
                <div>
                  <dt>Tags</dt>
                  <dd>{i.tags.join(', ')}</dd>
                </div>
              )}
            </dl>
            <h2>Checks</h2>
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Status</th>
                    <th scope="col">Check</th>
                    <th scope="col">Kind</th>
                    <th scope="col">Last result</th>
                    <th scope="col" class="num">
                      Duration
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {i.checks.map((c) => (
                    <tr key={c.id} data-check={c.id}>
                      <td>
                        <StatusLabel status={c.status} />
                      </td>
                      <th scope="row">
                        <a href={href.check(c.id)}>{c.id.split('/').pop()}</a>
                      </th>
                      <td>{c.kind}</td>
                      <td class="output">
                        {c.lastResult ? `${c.lastResult.reason} at ${formatTime(c.lastResult.observedAt)}: ${c.lastResult.output}` : 'none yet'}
                      </td>
                      <td class="num">{formatMs(c.lastResult?.durationMs)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
      </Show>

      <h2>Uptime (30 days)</h2>
      <Show loaded={uptime} what="uptime">
        {(u) => (
          <dl class="facts">
            <div>
              <dt>Uptime</dt>
              <dd>{formatPercent(u.uptimePercent, 3)}</dd>
            </div>
            <div>
              <dt>Incidents</dt>
              <dd>{u.incidents}</dd>
            </div>
            <div>
              <dt>Mean time to recovery</dt>
              <dd>{u.mttrMs === null ? '–' : formatDuration(u.mttrMs)}</dd>
            </div>
            {u.openIncidentSince !== null && (
              <div>
                <dt>Down since</dt>
                <dd>{formatTime(u.openIncidentSince)}</dd>
              </div>
            )}
          </dl>
        )}
      </Show>

      <RangePicker range={range} onChange={choose} />
      <h2>Status and latency over the range</h2>
      <Show loaded={rollups} what="rollups" unavailable="Open one of its checks for a chart from raw results.">
        {(rows) => (
          <>
            <Timeline segments={segmentsFromRollups(rows, STEP_MS[step])} from={range.from} to={range.to} label={`Worst status of ${key} per ${step}`} />
            <LatencyChart points={pointsFromRollups(rows)} label={`Latency of ${key}`} />
          </>
        )}
      </Show>
    </section>
  );
}
