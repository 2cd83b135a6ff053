/**
 * Every service, worst first: status, score, the last hour, instance counts
 * by status. Filters (status, tag, zone, search) live in the URL. Paginated:
 * at most PAGE_SIZE rows are in the DOM whatever the mesh's size.
 */
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef } from 'preact/hooks';
import { STATUSES, type Counts, type Status } from '../api';
import { memo } from '../components/memo';
import { Sparkline } from '../components/sparkline';
import { StatusIcon, StatusLabel, statusWord } from '../components/status';
import { ErrorNotice, Loading } from '../components/notice';
import { useSubscribe } from '../hooks';
import { compareWorstFirst, matches, type Filters } from '../mesh-filter';
import type { MeshStore, ServiceRow } from '../mesh-store';
import { href, replaceParams } from '../router';

export const PAGE_SIZE = 50;

let firstRenderMarked = false;

export function MeshView({ store, params }: { store: MeshStore; params: URLSearchParams }) {
  useSubscribe(useCallback((l: () => void) => store.subscribe(l), [store]));
  const filters: Filters = {
    q: params.get('q') ?? '',
    status: (STATUSES as readonly string[]).includes(params.get('status') ?? '') ? (params.get('status') as Status) : '',
    tag: params.get('tag') ?? '',
    zone: params.get('zone') ?? '',
  };
  const page = Math.max(1, Number(params.get('page')) || 1);
  const filterKey = `${filters.q}|${filters.status}|${filters.tag}|${filters.zone}`;

  const all = useMemo(() => [...store.services.values()], [store.version, store.services]);
  const { tags, zones, counts, instances } = useMemo(() => {
    const tags = new Set<string>();
    const zones = new Set<string>();
    const counts: Counts = { HEALTHY: 0, DEGRADED: 0, UNHEALTHY: 0, UNKNOWN: 0 };
    let instances = 0;
    for (const s of all) {
      for (const t of s.tags) tags.add(t);
      for (const z of s.zones) zones.add(z);
      counts[s.status]++;
      instances += s.counts.HEALTHY + s.counts.DEGRADED + s.counts.UNHEALTHY + s.counts.UNKNOWN;
    }
    return { tags: [...tags].sort(), zones: [...zones].sort(), counts, instances };
  }, [all]);
  const shown = useMemo(() => all.filter((r) => matches(r, filters)).sort(compareWorstFirst), [all, filterKey]);
  const pages = Math.max(1, Math.ceil(shown.length / PAGE_SIZE));
  const current = Math.min(page, pages);
  const rows = shown.slice((current - 1) * PAGE_SIZE, current * PAGE_SIZE);

  // Timing marks the tests and bench read: first render with data, and each filter's input → painted rows.
  const filterStarted = useRef(false);
  useLayoutEffect(() => {
    if (store.loaded && !firstRenderMarked) {
      firstRenderMarked = true;
      performance.mark('hm-first-render');
    }
  }, [store.loaded]);
  useLayoutEffect(() => {
    if (!filterStarted.current) return;
    filterStarted.current = false;
    performance.mark('hm-filter-end');
    performance.measure('hm-filter', 'hm-filter-start', 'hm-filter-end');
  }, [filterKey]);

  const setParam = (name: string, value: string): void => {
    filterStarted.current = name !== 'page';
    if (filterStarted.current) performance.mark('hm-filter-start');
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    if (name !== 'page') next.delete('page');
    replaceParams(next);
  };

  useEffect(() => {
    document.title = `${counts.UNHEALTHY ? `(${counts.UNHEALTHY} down) ` : ''}Mesh · healthmesh`;
  }, [counts.UNHEALTHY]);

  if (!store.loaded) return store.error ? <ErrorNotice message={store.error} /> : <Loading what="the mesh" />;

  return (
    <section aria-labelledby="mesh-title">
      <h1 id="mesh-title" tabIndex={-1}>
        Mesh
      </h1>
      <p class="summary-line">
        {all.length} services, {instances} instances.{' '}
        {STATUSES.map((s) => (
          <span key={s} class="count-chip">
            <StatusIcon status={s} /> {counts[s]} {statusWord(s).toLowerCase()}
          </span>
        ))}
      </p>
      {/* biome-ignore lint/a11y/useSemanticElements: <search> is not yet in Preact's JSX types; role=search is its equivalent */}
      <form class="filters" role="search" aria-label="Filter services" onSubmit={(e) => e.preventDefault()}>
        <label>
          Search
          <input type="search" name="q" value={filters.q} placeholder="service name" onInput={(e) => setParam('q', e.currentTarget.value)} autocomplete="off" />
        </label>
        <label>
          Status
          <select name="status" value={filters.status} onChange={(e) => setParam('status', e.currentTarget.value)}>
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {statusWord(s)} ({counts[s]})
              </option>
            ))}
          </select>
        </label>
        <label>
          Tag
          <select name="tag" value={filters.tag} onChange={(e) => setParam('tag', e.currentTarget.value)}>
            <option value="">any</option>
            {tags.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <label>
          Zone
          <select name="zone" value={filters.zone} onChange={(e) => setParam('zone', e.currentTarget.value)}>
            <option value="">any</option>
            {zones.map((z) => (
              <option key={z} value={z}>
                {z}
              </option>
            ))}
          </select>
        </label>
      </form>
      <p class="muted" aria-live="polite" data-testid="match-count">
        {shown.length === all.length ? `Showing all ${all.length} services` : `${shown.length} of ${all.length} services match`}, worst first.
      </p>
      <div class="table-wrap">
        <table class="mesh-table">
          <caption class="visually-hidden">Services, worst first</caption>
          <colgroup>
            <col class="c-status" />
            <col class="c-name" />
            <col class="c-score" />
            <col class="c-spark hide-narrow" />
            <col class="c-counts" />
            <col class="c-note hide-narrow" />
          </colgroup>
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col">Service</th>
              <th scope="col" class="num">
                Score
              </th>
              <th scope="col" class="hide-narrow">
                Last hour
              </th>
              <th scope="col">Instances</th>
              <th scope="col" class="hide-narrow">
                Note
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <Row key={row.name} row={row} />
            ))}
          </tbody>
        </table>
      </div>
      {shown.length === 0 && <p>No service matches these filters.</p>}
      {pages > 1 && (
        <nav class="pager" aria-label="Pages">
          <button type="button" disabled={current <= 1} onClick={() => setParam('page', String(current - 1))}>
            Previous
          </button>
          <span aria-live="polite">
            Page {current} of {pages} ({(current - 1) * PAGE_SIZE + 1}–{Math.min(shown.length, current * PAGE_SIZE)})
          </span>
          <button type="button" disabled={current >= pages} onClick={() => setParam('page', String(current + 1))}>
            Next
          </button>
        </nav>
      )}
    </section>
  );
}

function InstanceCounts({ counts }: { counts: Counts }) {
  return (
    <span class="counts">
      {STATUSES.filter((s) => counts[s] > 0).map((s) => (
        <span key={s} class="cnt">
          <StatusIcon status={s} />
          <span>{counts[s]}</span>
          <span class="visually-hidden"> {statusWord(s).toLowerCase()}</span>
        </span>
      ))}
    </span>
  );
}

function RowImpl({ row }: { row: ServiceRow }) {
  return (
    <tr data-service={row.name} data-status={row.status}>
      <td>
        <StatusLabel status={row.status} />
      </td>
      <th scope="row">
        <a href={href.service(row.name)}>{row.name}</a>
      </th>
      <td class="num">{row.score}</td>
      <td class="hide-narrow">
        <Sparkline values={row.spark} />
      </td>
      <td>
        <InstanceCounts counts={row.counts} />
      </td>
      <td class="hide-narrow note">{row.cause ?? (row.critical ? '' : 'not critical')}</td>
    </tr>
  );
}

/** A row renders again only when its service changed (the store replaces changed rows). */
const Row = memo(RowImpl, (a, b) => a.row === b.row);
