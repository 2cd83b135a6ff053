/**
 * AlertStore in memory, for unit tests and `healthmesh alerts test`. Same
 * contract as the durable backends except that nothing survives the process.
 * Rows and records are copied in and out, so callers cannot alter what is
 * stored by keeping a reference.
 */
import type { Silence } from './silences.js';
import type { AlertStore, FailedTry, NotifierStats, OutboxRow } from './store.js';
import type { AlertRecord, AlertState } from './types.js';

interface Held extends OutboxRow {
  seq: number;
  leaseOwner: string | null;
  leaseUntil: number | null;
}

const copy = <T>(v: T): T => structuredClone(v);

/** An AlertStore that keeps everything in maps. */
export class MemoryAlertStore implements AlertStore {
  private readonly rows = new Map<string, Held>();
  private readonly alerts = new Map<string, AlertRecord>();
  private readonly silences = new Map<string, Silence>();
  private readonly status = new Map<string, { lastError: string | null; lastErrorAt: number | null; lastDeliveredAt: number | null }>();
  private seq = 0;

  async enqueue(rows: readonly OutboxRow[]): Promise<void> {
    for (const row of rows) {
      if (this.rows.has(row.id)) continue;
      this.rows.set(row.id, { ...copy(row), state: 'pending', seq: this.seq++, leaseOwner: null, leaseUntil: null });
    }
  }

  async claimDue(notifier: string, now: number, limit: number, lease: { owner: string; until: number }): Promise<OutboxRow[]> {
    const due = [...this.rows.values()]
      .filter((r) => r.notifier === notifier && r.state === 'pending' && r.nextAttemptAt <= now && (r.leaseUntil === null || r.leaseUntil <= now))
      .sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || a.seq - b.seq)
      .slice(0, limit);
    for (const r of due) {
      r.leaseOwner = lease.owner;
      r.leaseUntil = lease.until;
    }
    return due.map(plain);
  }

  async markDelivered(id: string, at: number): Promise<void> {
    const r = this.rows.get(id);
    if (!r) return;
    r.state = 'delivered';
    r.deliveredAt = at;
    r.leaseOwner = r.leaseUntil = null;
    this.statusOf(r.notifier).lastDeliveredAt = at;
  }

  async markFailed(id: string, f: FailedTry): Promise<void> {
    const r = this.rows.get(id);
    if (!r || r.state === 'delivered') return;
    r.attempts = f.attempts;
    r.nextAttemptAt = f.nextAttemptAt;
    r.lastError = f.error;
    r.state = f.dead ? 'dead' : 'pending';
    r.leaseOwner = r.leaseUntil = null;
    const s = this.statusOf(r.notifier);
    s.lastError = f.error;
    s.lastErrorAt = f.at;
  }

  async nextDue(notifier: string): Promise<number | null> {
    let next: number | null = null;
    for (const r of this.rows.values())
      if (r.notifier === notifier && r.state === 'pending' && (next === null || r.nextAttemptAt < next)) next = r.nextAttemptAt;
    return next;
  }

  async releaseLeases(owner: string): Promise<void> {
    for (const r of this.rows.values()) if (r.leaseOwner === owner) r.leaseOwner = r.leaseUntil = null;
  }

  async notifierStats(): Promise<NotifierStats[]> {
    const names = new Set([...this.status.keys(), ...[...this.rows.values()].map((r) => r.notifier)]);
    return [...names].sort().map((notifier) => {
      const rows = [...this.rows.values()].filter((r) => r.notifier === notifier);
      const s = this.status.get(notifier);
      return {
        notifier,
        queued: rows.filter((r) => r.state === 'pending').length,
        dead: rows.filter((r) => r.state === 'dead').length,
        delivered: rows.filter((r) => r.state === 'delivered').length,
        lastError: s?.lastError ?? null,
        lastErrorAt: s?.lastErrorAt ?? null,
        lastDeliveredAt: s?.lastDeliveredAt ?? null,
      };
    });
  }

  async deadLetters(q: { notifier?: string; limit: number }): Promise<OutboxRow[]> {
    return [...this.rows.values()]
      .filter((r) => r.state === 'dead' && (q.notifier === undefined || r.notifier === q.notifier))
      .sort((a, b) => b.seq - a.seq)
      .slice(0, q.limit)
      .map(plain);
  }

  async pruneOutbox(before: number): Promise<number> {
    let n = 0;
    for (const [id, r] of this.rows) {
      if (r.state !== 'pending' && r.createdAt < before) {
        this.rows.delete(id);
        n++;
      }
    }
    return n;
  }

  async saveAlerts(records: readonly AlertRecord[]): Promise<void> {
    for (const r of records) this.alerts.set(r.id, copy(r));
  }

  async loadAlerts(q: { states?: readonly AlertState[]; limit?: number } = {}): Promise<AlertRecord[]> {
    return [...this.alerts.values()]
      .filter((a) => !q.states || q.states.includes(a.state))
      .sort((a, b) => b.updatedAt - a.updatedAt || a.id.localeCompare(b.id))
      .slice(0, q.limit ?? Infinity)
      .map(copy);
  }

  async getAlert(id: string): Promise<AlertRecord | undefined> {
    const a = this.alerts.get(id);
    return a ? copy(a) : undefined;
  }

  async putSilence(s: Silence): Promise<void> {
    this.silences.set(s.id, copy(s));
  }

  async deleteSilence(id: string): Promise<boolean> {
    return this.silences.delete(id);
  }

  async listSilences(): Promise<Silence[]> {
    return [...this.silences.values()].sort((a, b) => a.end - b.end || a.id.localeCompare(b.id)).map(copy);
  }

  async close(): Promise<void> {}

  private statusOf(notifier: string) {
    let s = this.status.get(notifier);
    if (!s) {
      s = { lastError: null, lastErrorAt: null, lastDeliveredAt: null };
      this.status.set(notifier, s);
    }
    return s;
  }
}

function plain(r: Held): OutboxRow {
  const { seq: _seq, leaseOwner: _o, leaseUntil: _u, ...row } = r;
  return copy(row);
}
