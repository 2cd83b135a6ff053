/**
 * bench/redact: what the secret filter costs an answer. Every API answer,
 * log line and event-stream chunk passes SecretSet.redact once the daemon
 * holds any secret; this measures it on an answer without secrets (the
 * usual case: the whole text is scanned, nothing replaced) of 10 KB and
 * 1 MB, with 1, 10, 100 and 1,000 secrets held. Prints JSON.
 *
 *   npx tsc -p . && node dist/bench/redact.js [--rounds 20]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { realClock } from '../src/core/clock.js';
import { seeded } from '../src/core/random.js';
import { SecretSet } from '../src/security/secrets.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '20' } } });
const rounds = Number(values.rounds);
const random = seeded(7);
const word = (n: number) => Array.from({ length: n }, () => 'abcdefghijklmnopqrstuvwxyz0123456789'[Math.floor(random() * 36)]).join('');

/** JSON like an instance list: ids, addresses, statuses. */
function answer(bytes: number): string {
  const items: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const item = JSON.stringify({
      id: `i-${i}`,
      address: `10.0.${(i >> 8) & 255}.${i & 255}:8080`,
      status: 'HEALTHY',
      score: 97.5,
      tags: ['zone-a'],
      metadata: { team: word(6) },
    });
    items.push(item);
    size += item.length + 1;
  }
  return `{"items":[${items.join(',')}]}`;
}

const results: unknown[] = [];
for (const bytes of [10_000, 1_000_000]) {
  const text = answer(bytes);
  for (const count of [1, 10, 100, 1000]) {
    const set = new SecretSet();
    for (let i = 0; i < count; i++) set.add(word(32));
    set.redact('warm');
    const times: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const t0 = realClock.now();
      const out = set.redact(text);
      times.push(realClock.now() - t0);
      if (out.length !== text.length) throw new Error('a secret was found where none was put');
    }
    times.sort((a, b) => a - b);
    results.push({
      answerBytes: text.length,
      secrets: count,
      medianMs: Math.round(times[times.length >> 1]! * 1000) / 1000,
      maxMs: Math.round(times[times.length - 1]! * 1000) / 1000,
    });
  }
}
process.stdout.write(`${JSON.stringify({ bench: 'redact', rounds, load1: loadavg()[0], results }, null, 2)}\n`);
