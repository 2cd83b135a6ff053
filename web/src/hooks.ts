import { useEffect, useState } from 'preact/hooks';
import { Unavailable } from './api';

/** Re-render when a store announces a change. */
export function useSubscribe(subscribe: (l: () => void) => () => void): void {
  const [, setVersion] = useState(0);
  useEffect(() => subscribe(() => setVersion((n) => n + 1)), [subscribe]);
}

/** What an async load gives a view: still loading, the value, a route the daemon lacks, or an error. */
export type Loaded<T> = { state: 'loading' } | { state: 'ok'; value: T } | { state: 'unavailable'; route: string } | { state: 'error'; message: string };

/**
 * Run `load` when `deps` change (and when `again` is called); results of a
 * superseded run are dropped.
 */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): [Loaded<T>, () => void] {
  const [result, setResult] = useState<Loaded<T>>({ state: 'loading' });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let current = true;
    load().then(
      (value) => current && setResult({ state: 'ok', value }),
      (err: unknown) => {
        if (!current) return;
        if (err instanceof Unavailable) setResult({ state: 'unavailable', route: err.route });
        else setResult({ state: 'error', message: (err as Error).message });
      },
    );
    return () => {
      current = false;
    };
    // `load` is a new closure each render: the caller's deps say when it means something new.
  }, [...deps, round]);
  return [result, () => setRound((r) => r + 1)];
}
