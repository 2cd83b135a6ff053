/**
 * The dashboard's frame: a skip link, the header with the mesh status and
 * the live state, the current view, and the token dialog. Focus moves to a
 * view's heading when the route changes, so keyboard and screen-reader
 * users land where the content is.
 */
import { useCallback, useEffect, useRef } from 'preact/hooks';
import { StatusLabel } from './components/status';
import { TokenDialog } from './components/token-dialog';
import { useSubscribe } from './hooks';
import type { MeshStore } from './mesh-store';
import { href, useRoute } from './router';
import { AlertsView } from './views/alerts';
import { CheckView } from './views/check';
import { InstanceView } from './views/instance';
import { MeshView } from './views/mesh';
import { ServiceView } from './views/service';

const LIVE_TEXT = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', offline: 'Offline' } as const;

export function App({ store }: { store: MeshStore }) {
  useSubscribe(useCallback((l: () => void) => store.subscribe(l), [store]));
  const route = useRoute();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  const routeKey = `${route.view}/${route.parts.join('/')}`;
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.querySelector<HTMLElement>('h1')?.focus();
  }, [routeKey]);
  // State the tests and the bench read from outside; written at most at each announced change (4 a second).
  useEffect(() => {
    document.body.dataset.live = store.live;
    document.body.dataset.received = String(store.received);
    document.body.dataset.services = String(store.services.size);
  }, [store.version]);
  return (
    <>
      {/* biome-ignore lint/a11y/useValidAnchor: a skip link is an anchor by convention; the hash router needs its default prevented */}
      <a
        class="skip-link"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          main.current?.querySelector<HTMLElement>('h1')?.focus();
        }}
      >
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={href.mesh()}>
          healthmesh
        </a>
        <nav aria-label="Views">
          <a href={href.mesh()} aria-current={route.view === 'mesh' ? 'page' : undefined}>
            Mesh
          </a>
          <a href={href.alerts()} aria-current={route.view === 'alerts' ? 'page' : undefined}>
            Alerts
          </a>
        </nav>
        <div class="top-status">
          {store.loaded && (
            <span class="mesh-status">
              Mesh <StatusLabel status={store.mesh} />
            </span>
          )}
          <span class={`live live-${store.live}`} role="status" aria-live="polite" title={store.liveDetail || undefined} data-live={store.live}>
            <span class="live-dot" aria-hidden="true" />
            {LIVE_TEXT[store.live]}
          </span>
        </div>
      </header>
      <main id="main" ref={main}>
        {route.view === 'mesh' && <MeshView store={store} params={route.params} />}
        {route.view === 'service' && <ServiceView key={route.parts[0]} store={store} name={route.parts[0]!} />}
        {route.view === 'instance' && <InstanceView key={routeKey} store={store} service={route.parts[0]!} id={route.parts[1]!} params={route.params} />}
        {route.view === 'check' && <CheckView key={routeKey} store={store} id={route.parts.join('/')} params={route.params} />}
        {route.view === 'alerts' && <AlertsView store={store} />}
        {route.view === 'missing' && (
          <>
            <h1 tabIndex={-1}>No such view</h1>
            <p>
              <a href={href.mesh()}>Back to the mesh</a>
            </p>
          </>
        )}
      </main>
      <TokenDialog />
    </>
  );
}
