import type { ComponentChildren } from 'preact';
import type { Loaded } from '../hooks';

/** The plain statement that a part of the daemon's API is missing (a part its config leaves out, or an older daemon). */
export function NotAvailable({ route, children }: { route: string; children?: ComponentChildren }) {
  return (
    <div class="notice notice-unavailable" role="note" data-unavailable="true">
      <strong>Not available.</strong> {route} is not available on this daemon (it answered 404).
      {children ? <> {children}</> : null}
    </div>
  );
}

export function ErrorNotice({ message, title = 'Could not load:' }: { message: string; title?: string }) {
  return (
    <div class="notice notice-error" role="alert">
      <strong>{title}</strong> {message}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" aria-busy="true">
      Loading {what}…
    </p>
  );
}

/** Render a Loaded value: the value with `children`, or the state it is in. */
export function Show<T>({
  loaded,
  what,
  children,
  unavailable,
}: {
  loaded: Loaded<T>;
  what: string;
  children: (value: T) => ComponentChildren;
  unavailable?: ComponentChildren;
}) {
  if (loaded.state === 'loading') return <Loading what={what} />;
  if (loaded.state === 'error') return <ErrorNotice message={loaded.message} />;
  if (loaded.state === 'unavailable') return <NotAvailable route={loaded.route}>{unavailable}</NotAvailable>;
  return <>{children(loaded.value)}</>;
}
