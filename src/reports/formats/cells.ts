/**
 * How cells read for people (HTML, Markdown) and for machines (CSV), and the
 * write loop every streaming format uses.
 */
import type { Writable } from 'node:stream';
import { zoneOffset } from '../periods.js';
import type { Cell, Column } from '../types.js';

/** Local wall time of `t` in `tz` as `YYYY-MM-DD HH:MM:SS` (seconds left off when zero). */
export function localTime(t: number, tz: string): string {
  const local = new Date(t + zoneOffset(t, tz)).toISOString();
  const text = `${local.slice(0, 10)} ${local.slice(11, 19)}`;
  return text.endsWith(':00') ? text.slice(0, 16) : text;
}

/** ISO 8601 with the zone's offset (`2026-01-02T03:04:05.000+01:00`; `Z` for UTC). */
export function isoTime(t: number, tz: string): string {
  const off = zoneOffset(t, tz);
  const local = new Date(t + off).toISOString().slice(0, 23);
  if (off === 0) return `${local}Z`;
  const a = Math.abs(off) / 60_000;
  return `${local}${off < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

/** A duration in ms as `2d 3h`, `4m 10s`, `850 ms`. */
export function humanDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const parts = d ? [`${d}d`, h && `${h}h`, m && `${m}m`] : h ? [`${h}h`, m && `${m}m`] : m ? [`${m}m`, sec && `${sec}s`] : [`${sec}s`];
  return parts.filter(Boolean).join(' ');
}

/** A cell as people read it. */
export function displayCell(col: Column, v: Cell, tz: string): string {
  if (v === null) return '—';
  if (typeof v === 'string') return v;
  switch (col.type) {
    case 'time':
      return localTime(v, tz);
    case 'duration':
      return humanDuration(v);
    case 'percent':
      return `${Number(v.toFixed(3))} %`;
    case 'integer':
      return Math.round(v).toLocaleString('en-US');
    default:
      return String(Number(v.toPrecision(6)));
  }
}

/** A cell as a CSV field value (before quoting): times ISO 8601 with offset, numbers in full, null empty. */
export function machineCell(col: Column, v: Cell, tz: string): string {
  if (v === null) return '';
  if (col.type === 'time' && typeof v === 'number') return isoTime(v, tz);
  return String(v);
}

/** Write a chunk, waiting for 'drain' when the stream's buffer is full. */
export async function write(out: Writable, chunk: string | Buffer): Promise<void> {
  if (!out.write(chunk))
    await new Promise<void>((resolve, reject) => {
      const onDrain = (): void => {
        out.off('error', onError);
        resolve();
      };
      const onError = (err: Error): void => {
        out.off('drain', onDrain);
        reject(err);
      };
      out.once('drain', onDrain);
      out.once('error', onError);
    });
}

/** Collects string pieces and writes them in ~64 KiB chunks. */
export class ChunkWriter {
  private buf = '';
  constructor(private readonly out: Writable) {}
  async add(s: string): Promise<void> {
    this.buf += s;
    if (this.buf.length >= 1 << 16) await this.flush();
  }
  async flush(): Promise<void> {
    if (this.buf) await write(this.out, this.buf);
    this.buf = '';
  }
}

/** HTML-escape text. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** End `out` and wait for it to finish (or fail). */
export async function finish(out: Writable): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    out.once('error', reject);
    out.end(() => resolve());
  });
}
