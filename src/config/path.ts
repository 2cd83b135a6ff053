/** A key path into the config: names and list positions. */
export type PathPart = string | number;

/** services.api.checks[1].interval */
export function formatPath(path: readonly PathPart[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p;
  return out;
}
