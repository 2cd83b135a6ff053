import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import * as dnsPacket from 'dns-packet';

/**
 * A small authoritative DNS server over UDP on 127.0.0.1 for dns check tests.
 * Answers are set per name and type and can be changed between queries;
 * names can be made to answer NXDOMAIN, SERVFAIL or REFUSED, to answer late,
 * or never to answer. A name that is not known answers NXDOMAIN; a known name
 * without records of the asked type answers NOERROR with no answers (the
 * resolver's ENODATA).
 */

/** SRV record data. */
export interface SrvRecord {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

/** MX record data. */
export interface MxRecord {
  preference: number;
  exchange: string;
}

/** Record data by type: addresses and names as strings, TXT as its strings. */
export interface RecordData {
  A: string;
  AAAA: string;
  CNAME: string;
  NS: string;
  TXT: string[];
  SRV: SrvRecord;
  MX: MxRecord;
}

/** A record type the server can serve. */
export type ServedType = keyof RecordData;

/** A failing response code the server can give for a name. */
export type FailRcode = 'NXDOMAIN' | 'SERVFAIL' | 'REFUSED';

const RCODE_NUMBER: Record<FailRcode, number> = { SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 };

interface NameEntry {
  records: { [T in ServedType]?: RecordData[T][] };
  rcode?: FailRcode;
  silent?: boolean;
  delayMs?: number;
}

/** One question the server received. */
export interface SeenQuery {
  name: string;
  type: string;
}

/** A running test DNS server. */
export interface DnsTestServer {
  port: number;
  /** 127.0.0.1:port, usable as a check's server or instance address. */
  address: string;
  /** Replaces the records of one type of a name (an empty list keeps the name existing). */
  set<T extends ServedType>(name: string, type: T, records: RecordData[T][]): void;
  /** Makes every query for the name answer with this rcode (undefined: back to records). */
  fail(name: string, rcode: FailRcode | undefined): void;
  /** Makes the name answer after delayMs (0: at once). */
  delay(name: string, delayMs: number): void;
  /** Drops queries for the name without answering (or every query when name is undefined). */
  silent(name: string | undefined, on?: boolean): void;
  /** Forgets a name entirely: it answers NXDOMAIN. */
  remove(name: string): void;
  /** Questions received so far, in order. */
  queries: SeenQuery[];
  close(): Promise<void>;
}

/** Options of a test DNS server. */
export interface DnsServerOptions {
  /** TTL of every answer in seconds (default 300, so caching would show). */
  ttl?: number;
}

function key(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** Starts a test DNS server on 127.0.0.1 on an ephemeral UDP port. */
export async function dnsServer(options: DnsServerOptions = {}): Promise<DnsTestServer> {
  const ttl = options.ttl ?? 300;
  const names = new Map<string, NameEntry>();
  const queries: SeenQuery[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let allSilent = false;
  let closed = false;
  const socket: Socket = createSocket('udp4');
  socket.on('error', () => {});

  const entry = (name: string): NameEntry => {
    const k = key(name);
    let e = names.get(k);
    if (e === undefined) {
      e = { records: {} };
      names.set(k, e);
    }
    return e;
  };

  const answersFor = (name: string, type: string, depth = 0): dnsPacket.Answer[] => {
    const e = names.get(key(name));
    if (e === undefined || depth > 4) return [];
    const out: dnsPacket.Answer[] = [];
    const cname = e.records.CNAME?.[0];
    if (cname !== undefined && type !== 'CNAME') {
      // What an authoritative server does for an alias: the CNAME, then the target's records.
      out.push({ type: 'CNAME', name, ttl, class: 'IN', data: cname });
      out.push(...answersFor(cname, type, depth + 1));
      return out;
    }
    switch (type) {
      case 'A':
      case 'AAAA':
      case 'CNAME':
      case 'NS':
        for (const d of e.records[type] ?? []) out.push({ type, name, ttl, class: 'IN', data: d });
        break;
      case 'TXT':
        for (const d of e.records.TXT ?? []) out.push({ type: 'TXT', name, ttl, class: 'IN', data: d });
        break;
      case 'SRV':
        for (const d of e.records.SRV ?? []) out.push({ type: 'SRV', name, ttl, class: 'IN', data: d });
        break;
      case 'MX':
        for (const d of e.records.MX ?? []) out.push({ type: 'MX', name, ttl, class: 'IN', data: d });
        break;
    }
    return out;
  };

  const respond = (query: dnsPacket.DecodedPacket, rinfo: RemoteInfo): void => {
    if (closed) return;
    const q = query.questions?.[0];
    let flags = dnsPacket.AUTHORITATIVE_ANSWER | ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED);
    let answers: dnsPacket.Answer[] = [];
    if (q !== undefined) {
      const e = names.get(key(q.name));
      if (e === undefined) flags |= RCODE_NUMBER.NXDOMAIN;
      else if (e.rcode !== undefined) flags |= RCODE_NUMBER[e.rcode];
      else answers = answersFor(q.name, q.type);
    }
    const reply = dnsPacket.encode({
      type: 'response',
      id: query.id,
      flags,
      questions: query.questions,
      answers,
    });
    socket.send(reply, rinfo.port, rinfo.address);
  };

  socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
    let query: dnsPacket.DecodedPacket;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return;
    }
    const q = query.questions?.[0];
    if (q !== undefined) queries.push({ name: q.name, type: q.type });
    if (allSilent) return;
    const e = q !== undefined ? names.get(key(q.name)) : undefined;
    if (e?.silent === true) return;
    const delayMs = e?.delayMs ?? 0;
    if (delayMs > 0) {
      const t = setTimeout(() => {
        timers.delete(t);
        respond(query, rinfo);
      }, delayMs);
      timers.add(t);
    } else {
      respond(query, rinfo);
    }
  });

  const port = await new Promise<number>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve(socket.address().port);
    });
  });

  return {
    port,
    address: `127.0.0.1:${port}`,
    queries,
    set(name, type, records) {
      (entry(name).records as Record<string, unknown[]>)[type] = [...records];
    },
    fail(name, rcode) {
      entry(name).rcode = rcode;
    },
    delay(name, delayMs) {
      entry(name).delayMs = delayMs;
    },
    silent(name, on = true) {
      if (name === undefined) allSilent = on;
      else entry(name).silent = on;
    },
    remove(name) {
      names.delete(key(name));
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      return new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}
