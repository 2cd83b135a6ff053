/**
 * `${VAR}` and `${VAR:-default}` interpolation in config strings; `$${` writes
 * a literal `${`. Unset variables without a default are reported, not
 * silently replaced by an empty string.
 */
const PATTERN = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export interface InterpolationResult {
  value: string;
  missing: string[];
  /** The values taken from the environment (not defaults): secrets to keep out of every output. */
  used: string[];
}

export function interpolateEnv(text: string, env: NodeJS.ProcessEnv): InterpolationResult {
  const missing: string[] = [];
  const used: string[] = [];
  if (!text.includes('${')) return { value: text, missing, used };
  const value = text.replace(PATTERN, (match, name: string | undefined, fallback: string | undefined) => {
    if (match === '$${') return '${';
    const found = env[name!];
    if (found !== undefined && found !== '') {
      used.push(found);
      return found;
    }
    if (fallback !== undefined) return fallback;
    missing.push(name!);
    return '';
  });
  return { value, missing, used };
}
