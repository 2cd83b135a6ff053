/**
 * The worker thread of custom checks, as JavaScript source text for
 * `new Worker(CUSTOM_WORKER_SOURCE, { eval: true })`.
 *
 * Protocol: workerData is `{ url }`, the file: URL of the user's module. The
 * worker imports it once (on the first run) and answers each run message
 * `{ id, payload: { check, params } }` with one `{ id, kind, value?, message? }`:
 *   ok      the function returned `value` (validated in the main thread)
 *   threw   the function threw or rejected; `message` says what
 *   import  the module failed to load or has no default export function
 *   clone   the returned value cannot be copied out of the worker
 * Anything else — process.exit(), an uncaught error, running out of heap —
 * ends the worker, and the pool reads it from the worker's events.
 *
 * Why source text and not a file: Node 20 cannot start a worker from a .ts
 * file, so a file entry would work from the built package only, not from the
 * TypeScript sources under the test runner; and the source of a compiled
 * function (fn.toString()) is not safe either, because test transforms
 * rewrite `import()` into helpers that do not exist in the worker. The code
 * is kept small (all judging happens in the main thread) and every branch is
 * covered by test/checks/custom.test.ts. An eval'd worker is a CommonJS
 * script: it has require(), and import() loads the user's ES module.
 */
export const CUSTOM_WORKER_SOURCE = `'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const url = workerData.url;
// The pool stops a call by terminating its worker, so this signal never fires here.
const signal = new AbortController().signal;
let loading = null;

function text(err) {
  try {
    if (err instanceof Error) return err.name === 'Error' ? err.message : err.name + ': ' + err.message;
    return String(err);
  } catch {
    return 'an error that cannot be printed';
  }
}

async function load() {
  const mod = await import(url);
  if (typeof mod.default !== 'function') {
    throw new TypeError('its default export is ' + (mod.default === undefined ? 'missing' : typeof mod.default) + ', not a function');
  }
  return mod.default;
}

function reply(message) {
  try {
    parentPort.postMessage(message);
  } catch (err) {
    // A value structured clone cannot copy: a function, a symbol, a class with private state...
    parentPort.postMessage({ id: message.id, kind: 'clone', message: text(err) });
  }
}

async function handle(msg) {
  let fn;
  try {
    fn = await (loading ??= load());
  } catch (err) {
    reply({ id: msg.id, kind: 'import', message: text(err) });
    return;
  }
  try {
    const value = await fn({ signal, check: msg.payload.check, params: msg.payload.params });
    reply({ id: msg.id, kind: 'ok', value });
  } catch (err) {
    reply({ id: msg.id, kind: 'threw', message: text(err) });
  }
}

parentPort.on('message', (msg) => {
  void handle(msg);
});
`;
