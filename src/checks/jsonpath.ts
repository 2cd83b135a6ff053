/**
 * A tiny JSON path getter for `expect_body.json`: `$.a.b[0].c`, `$['odd key']`,
 * `$.items[-1]` (negative index counts from the end). No wildcards, filters or
 * recursion: a health check compares one value at one place.
 *
 * Paths are compiled once (at check creation) into a list of steps; getting a
 * value is then a plain loop without parsing.
 */

/** One step: an object key or an array index. */
export type JsonPathStep = string | number;

/** A compiled path: the steps from the root. */
export type JsonPath = readonly JsonPathStep[];

/** Returned by getJsonPath when the path leads nowhere. */
export const MISSING: unique symbol = Symbol('missing');

/** Bad path syntax; thrown by compileJsonPath. */
export class JsonPathSyntaxError extends Error {
  readonly code = 'jsonpath_syntax';
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`invalid JSON path ${JSON.stringify(path)}: ${detail} (use e.g. $.a.b[0].c)`);
    this.name = 'JsonPathSyntaxError';
  }
}

/** Compiles `$.a.b[0]` into steps. A leading `$` is optional. Throws JsonPathSyntaxError. */
export function compileJsonPath(path: string): JsonPath {
  const steps: JsonPathStep[] = [];
  let i = 0;
  const n = path.length;
  if (path[0] === '$') i = 1;
  else if (n > 0 && path[0] !== '.' && path[0] !== '[') {
    // Bare `a.b` is read as `$.a.b`.
    i = readName(path, 0, steps);
  }
  while (i < n) {
    const c = path[i];
    if (c === '.') {
      if (i + 1 >= n) throw new JsonPathSyntaxError(path, 'ends with "."');
      i = readName(path, i + 1, steps);
    } else if (c === '[') {
      const close = path.indexOf(']', i);
      if (close < 0) throw new JsonPathSyntaxError(path, 'missing "]"');
      const inner = path.slice(i + 1, close).trim();
      const q = inner[0];
      if ((q === "'" || q === '"') && inner.length >= 2 && inner[inner.length - 1] === q) {
        steps.push(inner.slice(1, -1));
      } else if (/^-?\d+$/.test(inner)) {
        steps.push(Number(inner));
      } else {
        throw new JsonPathSyntaxError(path, `bad index [${inner}]`);
      }
      i = close + 1;
    } else {
      throw new JsonPathSyntaxError(path, `unexpected ${JSON.stringify(c)} at ${i}`);
    }
  }
  return steps;
}

function readName(path: string, start: number, steps: JsonPathStep[]): number {
  let end = start;
  while (end < path.length && path[end] !== '.' && path[end] !== '[') end++;
  if (end === start) throw new JsonPathSyntaxError(path, `empty name at ${start}`);
  steps.push(path.slice(start, end));
  return end;
}

/** The value at `path` inside a parsed JSON document, or MISSING. */
export function getJsonPath(root: unknown, path: JsonPath): unknown {
  let cur: unknown = root;
  for (let k = 0; k < path.length; k++) {
    const step = path[k] as JsonPathStep;
    if (typeof step === 'number') {
      if (!Array.isArray(cur)) return MISSING;
      const idx = step < 0 ? cur.length + step : step;
      if (idx < 0 || idx >= cur.length) return MISSING;
      cur = cur[idx];
    } else {
      if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return MISSING;
      if (!Object.hasOwn(cur, step)) return MISSING;
      cur = (cur as Record<string, unknown>)[step];
    }
  }
  return cur;
}
