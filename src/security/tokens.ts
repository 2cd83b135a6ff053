import { createHash, timingSafeEqual } from 'node:crypto';
import type { Scope } from '../config/security.js';

/** Who made a request: the name of the token it carried and what that token may do. */
export interface Principal {
  /** The token's name from the config (never its value): what the audit log shows. */
  name: string;
  scopes: ReadonlySet<Scope>;
}

/** A token as the server holds it: the value only as its SHA-256, so comparisons take the same time whatever the input's length. */
interface HeldToken {
  principal: Principal;
  digest: Buffer;
}

/** A token entry: from `server.tokens`, or the single `server.token` (admin). */
export interface TokenEntry {
  name: string;
  token: string;
  scopes: readonly Scope[];
}

/** Name given in the audit log to the single `server.token` / HEALTHMESH_API_TOKEN. */
export const SINGLE_TOKEN_NAME = 'server.token';

/**
 * The API's tokens. The old single token keeps working as an admin token,
 * so configs written before scoped tokens behave as before.
 */
export function tokenEntries(server: { token?: string | undefined; tokens?: readonly TokenEntry[] | undefined }, envToken?: string): TokenEntry[] {
  const entries: TokenEntry[] = [...(server.tokens ?? [])];
  const single = server.token ?? envToken;
  if (single !== undefined && single !== '' && !entries.some((e) => e.token === single))
    entries.push({ name: SINGLE_TOKEN_NAME, token: single, scopes: ['admin'] });
  return entries;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * Checks bearer tokens in constant time: the given value is hashed once and
 * compared with every held digest (no early exit), so neither the position
 * of a match nor a token's length shows in the answer time.
 */
export class TokenSet {
  private readonly held: HeldToken[];

  constructor(entries: readonly TokenEntry[]) {
    this.held = entries.map((e) => ({ principal: { name: e.name, scopes: new Set(e.scopes) }, digest: digest(e.token) }));
  }

  /** Number of tokens; 0 means the API is not protected (as before tokens existed). */
  get size(): number {
    return this.held.length;
  }

  /** The principal of an Authorization header, or null when it carries no known bearer token. */
  authenticate(header: string | undefined): Principal | null {
    const m = header === undefined ? null : /^Bearer\s+(.+)$/i.exec(header.trim());
    const given = digest(m ? m[1]! : '');
    let found: Principal | null = null;
    for (const h of this.held) {
      // Every digest is compared, matched or not: the loop takes the same time for any input.
      if (timingSafeEqual(given, h.digest) && m) found = h.principal;
    }
    return found;
  }
}

/** Whether `principal` may act with `scope`: admin may do everything, the others only what they name. */
export function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.scopes.has('admin') || principal.scopes.has(scope);
}
