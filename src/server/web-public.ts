import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** A handler of a route anyone may read. */
export type PublicHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set by publicRoute(): the route answers without the API's read token. */
    publicHandler?: PublicHandler;
  }
}

/**
 * Options marking a route as public: the dashboard's shell (HTML, scripts,
 * styles: no data), status pages and badges. Their handlers decide who may
 * read what (a status page may ask for its own token).
 */
export function publicRoute(handler: PublicHandler): { config: { publicHandler: PublicHandler } } {
  return { config: { publicHandler: handler } };
}

/**
 * With `protect_reads`, the API's guard (an onRequest hook of the root)
 * answers 401 to any request without the token, and a browser cannot send a
 * bearer token when it opens a page or an <img>. This hook, added before the
 * API's, answers public routes itself, so later onRequest hooks and the
 * route's own handler do not run for them; the route's onSend hooks (the
 * compression) still do. Without protected reads the routes run as usual.
 */
export function answerPublicRoutesFirst(app: FastifyInstance, readsProtected: () => boolean): void {
  app.addHook('onRequest', async (request, reply) => {
    const handler = request.routeOptions.config.publicHandler;
    if (!handler || !readsProtected()) return;
    const body = await handler(request, reply);
    // A handler that streams a file returns the reply itself: it is already answering.
    if (body !== reply && !reply.sent) await reply.send(body);
    return reply;
  });
}
