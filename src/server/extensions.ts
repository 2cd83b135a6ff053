/**
 * A part of the daemon that serves routes of its own (alerts, analysis,
 * reports): the daemon builds it, the server registers it after the API and
 * documents its routes in the one OpenAPI document. Adding such a part is
 * one extension object, not an edit of the API module.
 */
import type { FastifyInstance } from 'fastify';

export interface ServerExtension {
  /** Register the routes (a fastify plugin body; may be async). */
  register(app: FastifyInstance): void | Promise<void>;
  /** OpenAPI `paths` entries of those routes. */
  openApiPaths?(): Record<string, unknown>;
  /** OpenAPI `components.schemas` entries they refer to. */
  openApiSchemas?(): Record<string, unknown>;
}

/** `doc` with the extensions' paths and schemas added. */
export function withExtensions(doc: unknown, extensions: readonly ServerExtension[]): unknown {
  if (extensions.length === 0 || !isRecord(doc)) return doc;
  const components = isRecord(doc.components) ? doc.components : {};
  const schemas = isRecord(components.schemas) ? components.schemas : {};
  const paths = isRecord(doc.paths) ? doc.paths : {};
  return {
    ...doc,
    components: { ...components, schemas: Object.assign({ ...schemas }, ...extensions.map((e) => e.openApiSchemas?.() ?? {})) },
    paths: Object.assign({ ...paths }, ...extensions.map((e) => e.openApiPaths?.() ?? {})),
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
