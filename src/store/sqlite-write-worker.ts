/**
 * The SQLite store's writer thread (see sqlite.ts, `writes: 'worker'`), as
 * CommonJS source run with `new Worker(source, { eval: true })`: a string
 * works alike from dist/ and from vitest (no .ts loader in a worker), as for
 * the custom check workers and the checkpointer.
 *
 * It owns its own connection to the same file (WAL, synchronous=NORMAL) and
 * runs the write transaction of sqlite.ts `writeRows` (same SQL, same
 * bookkeeping of minute/hour buckets, checks.last_minute and counters; keep
 * the two in step).
 *
 * Protocol: the main thread posts a batch as parts `{ id, results,
 * transitions, last }` (a few hundred rows each, so no single message holds
 * the main thread for long; `results` in columns, see sqlite-write-message.ts
 * for the layout and keep the two in step); at the `last` part the batch is
 * queued, and the worker answers
 * `{ id, ok: true, kinds }` once the batch is committed (`kinds`: check ids
 * whose stored kind this batch changed, so the main thread's name cache
 * follows) or `{ id, ok: false, error }` once it is rolled back. Batches that
 * are already queued when the worker gets to them are committed together in
 * one transaction (group commit, at most `maxGroupRows` rows): each batch is
 * still all-or-nothing, and fewer, larger transactions dirty fewer index
 * pages per row. If a group fails, its batches are retried one by one so one
 * bad batch does not fail the others. `'stop'` (after the writes posted
 * before it) closes the connection and ends the thread.
 *
 * With `sortRows`, each transaction inserts its results ordered by
 * (check, observedAt), stable, so rows of one check are adjacent; rows of
 * one check keep their relative order (insertion order breaks time ties).
 */
export const WRITE_WORKER_SOURCE = String.raw`'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const STATUS_CODE = { HEALTHY: 0, DEGRADED: 1, UNHEALTHY: 2, UNKNOWN: 3 };
const OUTPUT_MAX_BYTES = 1024;
const maxGroupRows = workerData.maxGroupRows;
// Layout of an encoded part (sqlite-write-message.ts).
const NUMS_PER_ROW = 4;
const REFS_PER_ROW = 7;
const sortRows = workerData.sortRows;

function truncateOutput(s) {
  if (s.length * 3 <= OUTPUT_MAX_BYTES) return s;
  const buf = Buffer.from(s, 'utf8');
  if (buf.length <= OUTPUT_MAX_BYTES) return s;
  let end = OUTPUT_MAX_BYTES;
  while (end > 0 && (buf[end] & 0xc0) === 0x80) end--;
  return buf.toString('utf8', 0, end);
}
const mod = (a, n) => ((a % n) + n) % n;

const db = new Database(workerData.path);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
db.pragma('cache_size = ' + workerData.cacheSizeKib);
db.pragma('temp_store = MEMORY');
db.pragma('wal_autocheckpoint = ' + workerData.autocheckpoint);
db.pragma('journal_size_limit = 67108864');

const st = {
  insertResult: db.prepare('INSERT INTO results (check_ref, service_ref, observed_at, status, reason_ref, duration_us, attempts, output, metrics) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
  insertTransition: db.prepare('INSERT INTO transitions (check_ref, service_ref, at, from_status, to_status, reason_ref, output) VALUES (?, ?, ?, ?, ?, ?, ?)'),
  touchBucket: db.prepare('INSERT INTO buckets (resolution, start, min_id, max_id, gen, rolled_gen) VALUES (?, ?, ?, ?, 1, 0) ' +
    'ON CONFLICT (resolution, start) DO UPDATE SET min_id = min(min_id, excluded.min_id), max_id = max(max_id, excluded.max_id), gen = gen + 1'),
  addCounter: db.prepare('UPDATE meta SET value = value + ? WHERE key = ?'),
  insertService: db.prepare('INSERT OR IGNORE INTO services (name) VALUES (?)'),
  serviceId: db.prepare('SELECT id FROM services WHERE name = ?').pluck(),
  insertInstance: db.prepare('INSERT OR IGNORE INTO instances (service_id, name) VALUES (?, ?)'),
  instanceId: db.prepare('SELECT id FROM instances WHERE service_id = ? AND name = ?').pluck(),
  insertCheck: db.prepare('INSERT OR IGNORE INTO checks (check_id, service_id, instance_id, kind) VALUES (?, ?, ?, ?)'),
  checkRow: db.prepare('SELECT id, service_id, instance_id, kind, last_minute FROM checks WHERE check_id = ?').raw(),
  advanceLastMinute: db.prepare('UPDATE checks SET last_minute = ? WHERE id = ? AND (last_minute IS NULL OR last_minute < ?)'),
  updateKind: db.prepare('UPDATE checks SET kind = ? WHERE id = ?'),
  insertReason: db.prepare('INSERT OR IGNORE INTO reasons (reason) VALUES (?)'),
  reasonId: db.prepare('SELECT id FROM reasons WHERE reason = ?').pluck(),
  allChecks: db.prepare('SELECT check_id, id, service_id, kind, last_minute FROM checks').raw(),
  allServices: db.prepare('SELECT name, id FROM services').raw(),
  allInstances: db.prepare('SELECT service_id, name, id FROM instances').raw(),
  allReasons: db.prepare('SELECT reason, id FROM reasons').raw(),
};

const checks = new Map();
const services = new Map();
const instances = new Map();
const reasons = new Map();
function loadNames() {
  checks.clear(); services.clear(); instances.clear(); reasons.clear();
  for (const [checkId, ref, serviceRef, kind, lastMinute] of st.allChecks.all()) checks.set(checkId, { ref, serviceRef, kind, lastMinute });
  for (const [name, id] of st.allServices.all()) services.set(name, id);
  for (const [sid, name, id] of st.allInstances.all()) instances.set(sid + '\u0000' + name, id);
  for (const [reason, id] of st.allReasons.all()) reasons.set(reason, id);
}
loadNames();

/** Check ids whose kind the current transaction changed → new kind. */
let kindChanges = new Map();

function internCheck(checkId, service, instance, kind) {
  const known = checks.get(checkId);
  if (known) {
    if (known.kind !== kind) {
      st.updateKind.run(kind, known.ref);
      known.kind = kind;
      kindChanges.set(checkId, kind);
    }
    return known;
  }
  let serviceRef = services.get(service);
  if (serviceRef === undefined) {
    st.insertService.run(service);
    serviceRef = st.serviceId.get(service);
    services.set(service, serviceRef);
  }
  const instanceKey = serviceRef + '\u0000' + instance;
  let instanceRef = instances.get(instanceKey);
  if (instanceRef === undefined) {
    st.insertInstance.run(serviceRef, instance);
    instanceRef = st.instanceId.get(serviceRef, instance);
    instances.set(instanceKey, instanceRef);
  }
  st.insertCheck.run(checkId, serviceRef, instanceRef, kind);
  const row = st.checkRow.get(checkId);
  const entry = { ref: row[0], serviceRef: row[1], kind: row[3], lastMinute: row[4] };
  checks.set(checkId, entry);
  if (entry.kind !== kind) {
    // Another connection interned it first with another kind: the newest kind written wins.
    st.updateKind.run(kind, entry.ref);
    entry.kind = kind;
  }
  kindChanges.set(checkId, kind);
  return entry;
}

function internReason(reason) {
  let ref = reasons.get(reason);
  if (ref === undefined) {
    st.insertReason.run(reason);
    ref = st.reasonId.get(reason);
    reasons.set(reason, ref);
  }
  return ref;
}

/** Body of one transaction over the batches of a group. */
function writeGroup(batches) {
  const rows = [];
  let nResults = 0;
  let nTransitions = 0;
  for (const batch of batches) {
    for (const part of batch.parts) {
      const { n, nums, refs, strs } = part;
      for (let k = 0; k < n; k++) {
        const b = k * REFS_PER_ROW;
        const check = internCheck(strs[refs[b]], strs[refs[b + 1]], strs[refs[b + 2]], strs[refs[b + 3]]);
        rows.push({ check, t: Math.floor(nums[k * NUMS_PER_ROW]), part, k });
      }
    }
    nResults += batch.rows;
    nTransitions += batch.transitions.length;
  }
  // Array.prototype.sort is stable: rows of one check keep their order.
  if (sortRows) rows.sort((a, b) => a.check.ref - b.check.ref || a.t - b.t);
  const minutes = new Map();
  let lastStart = NaN;
  let last;
  // Checks whose checks.last_minute this transaction moves forward (reloaded with the names on a rollback).
  const advanced = new Set();
  for (const { check, t, part, k } of rows) {
    const { nums, refs, strs } = part;
    const a = k * NUMS_PER_ROW;
    const b = k * REFS_PER_ROW;
    const info = st.insertResult.run(
      check.ref,
      check.serviceRef,
      t,
      nums[a + 3],
      internReason(strs[refs[b + 4]]),
      Math.max(0, Math.round(nums[a + 1] * 1000)),
      nums[a + 2],
      truncateOutput(strs[refs[b + 5]]),
      refs[b + 6] < 0 ? null : strs[refs[b + 6]],
    );
    const id = Number(info.lastInsertRowid);
    const start = t - mod(t, 60000);
    if (check.lastMinute === null || start > check.lastMinute) {
      check.lastMinute = start;
      advanced.add(check);
    }
    if (start !== lastStart) {
      lastStart = start;
      last = minutes.get(start);
      if (!last) minutes.set(start, (last = [id, id]));
    }
    if (id < last[0]) last[0] = id;
    if (id > last[1]) last[1] = id;
  }
  const hours = new Map();
  for (const [start, range] of minutes) {
    st.touchBucket.run(0, start, range[0], range[1]);
    const hour = start - mod(start, 3600000);
    const h = hours.get(hour);
    if (!h) hours.set(hour, [range[0], range[1]]);
    else {
      h[0] = Math.min(h[0], range[0]);
      h[1] = Math.max(h[1], range[1]);
    }
  }
  for (const [start, range] of hours) st.touchBucket.run(1, start, range[0], range[1]);
  for (const check of advanced) st.advanceLastMinute.run(check.lastMinute, check.ref, check.lastMinute);
  for (const batch of batches) {
    for (const tr of batch.transitions) {
      const known = checks.get(tr.checkId);
      const check = internCheck(tr.checkId, tr.service, tr.instance, known ? known.kind : 'unknown');
      st.insertTransition.run(
        check.ref,
        check.serviceRef,
        Math.floor(tr.at),
        STATUS_CODE[tr.from] ?? 3,
        STATUS_CODE[tr.to] ?? 3,
        internReason(tr.reason),
        truncateOutput(tr.output ?? ''),
      );
    }
  }
  if (nResults) st.addCounter.run(nResults, 'results');
  if (nTransitions) st.addCounter.run(nTransitions, 'transitions');
}
const writeTx = db.transaction(writeGroup);

/** Commit a group; returns the kind changes, or throws (names reloaded: the rollback undid any interning). */
function commit(batches) {
  kindChanges = new Map();
  try {
    writeTx(batches);
  } catch (err) {
    loadNames();
    throw err;
  }
  return kindChanges.size ? [...kindChanges] : null;
}

const errorOf = (err) => ({
  name: err && err.name ? String(err.name) : 'Error',
  message: err && err.message !== undefined ? String(err.message) : String(err),
  code: err && err.code !== undefined ? String(err.code) : undefined,
});

const queue = [];
/** Batches still receiving parts, by id. */
const partial = new Map();
let scheduled = false;
let stopping = false;
const rowsOf = (m) => m.batch.rows + m.batch.transitions.length;

function drain() {
  scheduled = false;
  while (queue.length) {
    const group = [queue.shift()];
    let rows = rowsOf(group[0]);
    while (queue.length && rows + rowsOf(queue[0]) <= maxGroupRows) {
      rows += rowsOf(queue[0]);
      group.push(queue.shift());
    }
    try {
      const kinds = commit(group.map((m) => m.batch));
      for (const m of group) parentPort.postMessage({ id: m.id, ok: true, kinds });
    } catch (err) {
      if (group.length === 1) {
        parentPort.postMessage({ id: group[0].id, ok: false, error: errorOf(err) });
        continue;
      }
      for (const m of group) {
        try {
          parentPort.postMessage({ id: m.id, ok: true, kinds: commit([m.batch]) });
        } catch (e) {
          parentPort.postMessage({ id: m.id, ok: false, error: errorOf(e) });
        }
      }
    }
  }
  if (stopping) {
    db.close();
    parentPort.close();
  }
}

parentPort.on('message', (msg) => {
  if (msg === 'stop') stopping = true;
  else if (msg.abort) {
    partial.delete(msg.id);
    return;
  } else {
    let batch = partial.get(msg.id);
    if (!batch) batch = { parts: [], rows: 0, transitions: [] };
    batch.parts.push(msg.results);
    batch.rows += msg.results.n;
    for (const t of msg.transitions) batch.transitions.push(t);
    if (!msg.last) {
      partial.set(msg.id, batch);
      return;
    }
    partial.delete(msg.id);
    queue.push({ id: msg.id, batch });
  }
  if (!scheduled) {
    scheduled = true;
    setImmediate(drain);
  }
});
parentPort.postMessage({ ready: true });
`;
