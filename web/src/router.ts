/**
 * Hash routes, so the daemon serves one page at `/` and a link to any view
 * works without server-side routing:
 *   #/?q=&status=&tag=&zone=&page=   mesh
 *   #/service/<name>                 service
 *   #/instance/<service>/<id>        instance
 *   #/check/<service>/<instance>/<name>?range=24h   check
 *   #/alerts                         alerts
 */
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  view: 'mesh' | 'service' | 'instance' | 'check' | 'alerts' | 'missing';
  /** Decoded path parts after the view name. */
  parts: string[];
  params: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/';
  const [path = '/', query = ''] = raw.split('?', 2);
  const parts = path
    .split('/')
    .filter(Boolean)
    .map((p) => decodeURIComponent(p));
  const params = new URLSearchParams(query);
  const head = parts.shift();
  if (head === undefined) return { view: 'mesh', parts, params };
  if (head === 'service' && parts.length === 1) return { view: 'service', parts, params };
  if (head === 'instance' && parts.length === 2) return { view: 'instance', parts, params };
  if (head === 'check' && parts.length >= 3) return { view: 'check', parts, params };
  if (head === 'alerts') return { view: 'alerts', parts, params };
  return { view: 'missing', parts: [head, ...parts], params };
}

const enc = (parts: string[]): string => parts.map(encodeURIComponent).join('/');

export const href = {
  mesh: (params?: URLSearchParams): string => `#/${params?.toString() ? `?${params}` : ''}`,
  service: (name: string): string => `#/service/${enc([name])}`,
  instance: (service: string, id: string): string => `#/instance/${enc([service, id])}`,
  check: (id: string, range?: string): string => `#/check/${enc(id.split('/'))}${range ? `?range=${encodeURIComponent(range)}` : ''}`,
  alerts: (): string => '#/alerts',
};

/** Replace the query of the current view without adding a history entry (filters typing). */
export function replaceParams(params: URLSearchParams): void {
  const path = location.hash.replace(/^#/, '').split('?', 1)[0] || '/';
  const text = params.toString();
  history.replaceState(null, '', `#${path}${text ? `?${text}` : ''}`);
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const on = (): void => setRoute(parseHash(location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}
