/**
 * A public status page: one group of services (status_pages in the config)
 * with 90 days of uptime bars, current incidents and their history. It reads
 * only /api/v1/status/<slug>, which answers with that group and nothing
 * else. Read again every minute while the tab is visible (a public page has
 * no access to the dashboard's event stream, which covers the whole mesh).
 */
import { useEffect, useState } from 'preact/hooks';
import { getStatusPage, type Status, type StatusPageData } from '../api';
import { ErrorNotice, Loading } from '../components/notice';
import { StatusIcon, StatusLabel } from '../components/status';
import { TokenDialog } from '../components/token-dialog';
import { UptimeBars } from '../components/uptime-bars';
import { formatDateTime, formatDuration, formatPercent, formatTime } from '../format';
import { useLoad } from '../hooks';

const REFRESH_MS = 60_000;

const HEADLINE: Record<Status, string> = {
  HEALTHY: 'All systems operational',
  DEGRADED: 'Some systems are degraded',
  UNHEALTHY: 'Some systems are down',
  UNKNOWN: 'Status not known yet',
};

export function StatusPage({ slug }: { slug: string }) {
  const [page, reload] = useLoad(() => getStatusPage(slug), [slug]);
  useEffect(() => {
    const timer = setInterval(() => document.visibilityState === 'visible' && reload(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [slug]);
  useEffect(() => {
    if (page.state === 'ok') document.title = `${page.value.title} · status`;
  }, [page]);
  return (
    <>
      <main id="main" class="status-main">
        {page.state === 'loading' && <Loading what="the status" />}
        {page.state === 'error' && <ErrorNotice message={page.message} />}
        {page.state === 'unavailable' && <ErrorNotice message={page.route} />}
        {page.state === 'ok' && <PageBody page={page.value} />}
      </main>
      <TokenDialog />
    </>
  );
}

function PageBody({ page }: { page: StatusPageData }) {
  const [now] = useState(() => Date.now());
  return (
    <>
      <header class="status-header">
        <h1>{page.title}</h1>
        {page.description && <p>{page.description}</p>}
      </header>
      <p class={`overall st-${page.overall.toLowerCase()}`} role="status">
        <StatusIcon status={page.overall} /> {HEADLINE[page.overall]}
      </p>

      {page.incidents.current.length > 0 && (
        <section aria-labelledby="current-title">
          <h2 id="current-title">Current incidents</h2>
          <ul class="incidents">
            {page.incidents.current.map((i) => (
              <li key={i.service}>
                <StatusLabel status={i.status} /> <strong>{i.service}</strong>
                {i.since !== null ? ` since ${formatTime(i.since)} (${formatDuration(now - i.since)})` : ''}
              </li>
            ))}
          </ul>
        </section>
      )}

      <section aria-labelledby="services-title">
        <h2 id="services-title">Services</h2>
        <ul class="status-services">
          {page.services.map((s) => (
            <li key={s.name} data-service={s.name}>
              <div class="svc-head">
                <strong>{s.name}</strong>
                <span class="muted">{formatPercent(s.uptimePercent, 2)} uptime (90 days)</span>
                <StatusLabel status={s.status} />
              </div>
              <UptimeBars days={s.days} label={`Uptime of ${s.name} per day, last 90 days`} />
            </li>
          ))}
        </ul>
        {page.uptimeSource === 'rollups' && <p class="muted small">Uptime is estimated from stored check results (the share that passed).</p>}
      </section>

      <section aria-labelledby="history-title">
        <h2 id="history-title">Past incidents</h2>
        {page.incidents.history.length === 0 ? (
          <p class="muted">No incidents recorded since the monitor started.</p>
        ) : (
          <ul class="incidents">
            {page.incidents.history.map((i) => (
              <li key={`${i.service}-${i.start}`}>
                <strong>{i.service}</strong> was down {formatDateTime(i.start)} – {formatTime(i.end)} ({formatDuration(i.durationMs)})
              </li>
            ))}
          </ul>
        )}
      </section>
      <footer class="muted small">Updated {formatTime(page.generatedAt)}. Powered by healthmesh.</footer>
    </>
  );
}
