import { isIPv6 } from 'node:net';
import { z } from 'zod';

/**
 * The address of an instance: `host:port`, where the host is a name or an
 * IPv4 address, or an IPv6 address in brackets (`[::1]:9000`), and the port
 * is 1–65535. Checked where every instance address comes in (the config
 * file, registrations through the API or the library, stored registrations,
 * DNS SRV discovery), so a bad one is refused with its field named instead
 * of making every check of the instance fail at run time.
 */

/** Host names and IPv4 addresses: what DNS and SRV targets use (with "_", as in _service labels). */
const HOST_NAME = /^[A-Za-z0-9_.-]+$/;

/** Why `text` is not a `host:port` address (a sentence naming the value and the fix), or undefined when it is one. */
export function hostPortProblem(text: string): string | undefined {
  const shown = JSON.stringify(text);
  if (text.includes('://')) return `${shown} is a URL: write host:port without a scheme or path, e.g. 10.0.0.5:8080`;
  let port: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return `${shown} has no closing "]" (write an IPv6 address as [::1]:8080)`;
    const host = text.slice(1, close);
    if (!isIPv6(host)) return `${shown}: ${JSON.stringify(host)} in brackets is not an IPv6 address`;
    const rest = text.slice(close + 1);
    if (!rest.startsWith(':')) return `${shown} has no port: write [${host}]:port, e.g. [${host}]:8080`;
    port = rest.slice(1);
  } else {
    const colon = text.indexOf(':');
    if (colon < 0) return `${shown} has no port: write host:port, e.g. ${text || 'host'}:8080`;
    if (colon !== text.lastIndexOf(':')) return `${shown}: an IPv6 address goes in brackets before the port, e.g. [::1]:8080`;
    const host = text.slice(0, colon);
    if (host === '') return `${shown} has no host: write host:port, e.g. 10.0.0.5${text}`;
    if (!HOST_NAME.test(host))
      return `${shown}: the host ${JSON.stringify(host)} may hold only letters, digits, ".", "-" and "_" (a name or an IPv4 address; IPv6 goes in brackets)`;
    port = text.slice(colon + 1);
  }
  if (!/^\d{1,5}$/.test(port)) return `${shown}: the port ${JSON.stringify(port)} is not a number from 1 to 65535`;
  const n = Number(port);
  if (n < 1 || n > 65535) return `${shown}: the port ${n} is out of range (1–65535)`;
  return undefined;
}

/** The zod form of hostPortProblem: one refinement for the config, the API and discovery. */
export const hostPort = z
  .string()
  .superRefine((value, ctx) => {
    const problem = hostPortProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .meta({ description: 'host:port of the instance (port 1–65535; IPv6 in brackets), e.g. 10.0.0.5:8080 or [::1]:9000' });
