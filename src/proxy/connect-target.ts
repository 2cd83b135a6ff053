import { parseHostPort } from '../checks/probe-support.js';

/** Where to connect for an instance address (`host:port`, `[v6]:port`; no port: 80). A malformed one is tried as a host name, and fails like a refused instance. */
export function connectTarget(address: string): { host: string; port: number } {
  try {
    const { host, port } = parseHostPort(address);
    return { host, port: port ?? 80 };
  } catch {
    return { host: address, port: 80 };
  }
}
