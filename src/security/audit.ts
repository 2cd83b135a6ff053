import type { FastifyRequest } from 'fastify';
import type { Logger } from '../core/logger.js';

/** One audit record: who (token name), what (method, route, path), the outcome, from where. */
export interface AuditRecord {
  token: string;
  method: string;
  route: string;
  path: string;
  status: number;
  client: string;
}

/** Token name shown for a request that carried no valid token. */
export const ANONYMOUS = '-';

/** The audit record of a finished request; the query string is left out (it may carry anything). */
export function auditRecord(request: FastifyRequest, status: number, tokenName: string | undefined): AuditRecord {
  return {
    token: tokenName ?? ANONYMOUS,
    method: request.method,
    route: request.routeOptions.url ?? '(no route)',
    path: request.url.split('?', 1)[0]!,
    status,
    client: request.ip,
  };
}

/** Write the audit line: one `info` record with `audit: {...}`; its time is the logger's. Never the token's value. */
export function writeAudit(logger: Logger, record: AuditRecord): void {
  logger.info({ audit: record }, `audit: ${record.token} ${record.method} ${record.path} -> ${record.status} from ${record.client}`);
}
