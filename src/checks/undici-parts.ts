/**
 * undici's Client and connector, loaded without undici's index. The index
 * also loads fetch, WebSocket, EventSource, caches and mocks: 7.2 MB of RSS
 * (3.6 MB of heap) in every daemon, where these two files take 0.8 MB
 * (measured after pino and fastify, Node 20, undici 7.30). undici has no
 * `exports` map, so these are files of the package's public layout; the
 * index, when something else loads it (alert notifiers, the proxy), requires
 * the same files, so there is one Client class in the process.
 */
import { createRequire } from 'node:module';
import type { buildConnector, Client } from 'undici';

const require = createRequire(import.meta.url);

export const UndiciClient: typeof Client = require('undici/lib/dispatcher/client.js');
export const buildUndiciConnector: typeof buildConnector = require('undici/lib/core/connect.js');
