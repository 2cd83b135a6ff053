/**
 * One check: its state, a status timeline and a latency chart with
 * percentile bands over a chosen range (from rollups; from raw results on a
 * daemon without the rollup and transition routes, and saying so), and its
 * recent results with reason and output, read again when it changes.
 */
import { useEffect, useState } from 'preact/hooks';
import { getCheck, getCheckResults, getRollups, getTransitions } from '../api';
import { LatencyChart } from '../components/latency-chart';
import { NotAvailable, Show } from '../components/notice';
import { rangeFromParams, RangePicker, stepFor, type Range } from '../components/range-picker';
import { StatusLabel } from '../components/status';
import { Timeline } from '../components/timeline';
import { formatAgo, formatDuration, formatMs, formatTime } from '../format';
import { loadRawResults, pointsFromResults, pointsFromRollups, segmentsFrom, segmentsFromResults } from '../history';
import { useLoad } from '../hooks';
import type { MeshStore } from '../mesh-store';
import { href, replaceParams } from '../router';

const STEP_MS = { '1m': 60_000, '1h': 3_600_000 } as const;

export function CheckView({ store, id, params }: { store: MeshStore; id: string; params: URLSearchParams }) {
  const [range, setRange] = useState<Range>(() => rangeFromParams(params, Date.now()));
  const [changes, setChanges] = useState(0);
  const [check] = useLoad(() => getCheck(id), [id, changes]);
  const [recent] = useLoad(() => getCheckResults(id, { limit: 25 }), [id, changes]);
  const step = stepFor(range);
  const [rollups] = useLoad(() => getRollups('checks', id, step, range.from, range.to), [id, range.from, range.to]);
  const [transitions] = useLoad(() => getTransitions({ check: id, from: range.from, to: range.to, limit: 1000 }), [id, range.from, range.to]);
  const needRaw = rollups.state === 'unavailable' || transitions.state === 'unavailable';
  const [raw] = useLoad(() => (needRaw ? loadRawResults(id, range.from, range.to) : Promise.resolve(null)), [id, range.from, range.to, needRaw]);

  useEffect(() => store.onTransition((t) => t.check === id && setChanges((n) => n + 1)), [store, id]);
  useEffect(() => {
    document.title = `${id} · healthmesh`;
  }, [id]);

  const choose = (r: Range): void => {
    setRange(r);
    const next = new URLSearchParams({ range: r.name });
    if (r.name === 'custom') {
      next.set('from', String(r.from));
      next.set('to', String(r.to));
    }
    replaceParams(next);
  };
  const [service = '', instance = ''] = id.split('/');
  const current = check.state === 'ok' ? check.value.status : 'UNKNOWN';

  return (
    <section aria-labelledby="check-title">
      <p class="crumbs">
        <a href={href.mesh()}>Mesh</a> / <a href={href.service(service)}>{service}</a> / <a href={href.instance(service, instance)}>{instance}</a> / check
      </p>
      <h1 id="check-title" tabIndex={-1}>
        {id} {check.state === 'ok' && <StatusLabel status={check.value.status} />}
      </h1>
      <Show loaded={check} what="the check">
        {(c) => (
          <dl class="facts">
            <div>
              <dt>Kind</dt>
              <dd>{c.kind}</dd>
            </div>
            <div>
              <dt>Since</dt>
              <dd>
                {formatTime(c.since)} ({formatAgo(c.since)})
              </dd>
            </div>
            <div>
              <dt>Interval / timeout</dt>
              <dd>
                {formatDuration(c.intervalMs)} / {formatMs(c.timeoutMs)}
              </dd>
            </div>
            <div>
              <dt>Failures in a row</dt>
              <dd>{c.consecutiveFailures}</dd>
            </div>
            {c.flapping && (
              <div>
                <dt>Flapping</dt>
                <dd>yes</dd>
              </div>
            )}
            {c.lastResult && (
              <div class="wide">
                <dt>Last result</dt>
                <dd>
                  {c.lastResult.reason} in {formatMs(c.lastResult.durationMs)}: <code>{c.lastResult.output}</code>
                </dd>
              </div>
            )}
          </dl>
        )}
      </Show>

      <RangePicker range={range} onChange={choose} />

      <h2>Status timeline</h2>
      {transitions.state === 'ok' ? (
        <Timeline
          segments={segmentsFrom(transitions.value.items, range.from, range.to, current)}
          from={range.from}
          to={range.to}
          label={`Status of ${id} over the range`}
        />
      ) : transitions.state === 'unavailable' ? (
        <>
          <NotAvailable route={transitions.route}>
            The timeline below is drawn from raw results (each result's own status, before rise/fall thresholds).
          </NotAvailable>
          <Show loaded={raw} what="results">
            {(r) =>
              r && (
                <Timeline
                  segments={segmentsFromResults(r.results, range.from, range.to)}
                  from={range.from}
                  to={range.to}
                  label={`Raw result status of ${id} over the range`}
                />
              )
            }
          </Show>
        </>
      ) : (
        <Show loaded={transitions} what="transitions">
          {() => null}
        </Show>
      )}

      <h2>Latency</h2>
      {rollups.state === 'ok' ? (
        <LatencyChart points={pointsFromRollups(rollups.value)} label={`Latency of ${id}`} />
      ) : rollups.state === 'unavailable' ? (
        <>
          <NotAvailable route={rollups.route}>The chart below is computed in the page from raw results.</NotAvailable>
          <Show loaded={raw} what="results">
            {(r) =>
              r && (
                <>
                  <LatencyChart points={pointsFromResults(r.results, STEP_MS[step])} label={`Latency of ${id} from raw results`} />
                  {r.truncated && <p class="muted small">Only the newest {r.results.length} results of the range were read.</p>}
                </>
              )
            }
          </Show>
        </>
      ) : (
        <Show loaded={rollups} what="rollups">
          {() => null}
        </Show>
      )}

      <h2>Recent results</h2>
      <Show loaded={recent} what="results">
        {(page) =>
          page.items.length === 0 ? (
            <p class="muted">No stored results yet.</p>
          ) : (
            <div class="table-wrap">
              <table class="results">
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Status</th>
                    <th scope="col">Reason</th>
                    <th scope="col" class="num">
                      Duration
                    </th>
                    <th scope="col">Output</th>
                  </tr>
                </thead>
                <tbody>
                  {page.items.map((r) => (
                    <tr key={`${r.observedAt}-${r.durationMs}`}>
                      <td>{formatTime(r.observedAt)}</td>
                      <td>
                        <StatusLabel status={r.status} />
                      </td>
                      <td>
                        <code>{r.reason}</code>
                      </td>
                      <td class="num">{formatMs(r.durationMs)}</td>
                      <td class="output">{r.output}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Show>
    </section>
  );
}
