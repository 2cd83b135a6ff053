import type { Clock } from '../core/clock.js';
import type { HealthStatus } from '../core/status.js';
import { severity } from '../core/status.js';
import type { Engine } from '../engine.js';
import type { InstanceRecord, Registry } from '../registry/registry.js';
import type { StatusRollup } from '../status/rollup.js';
import type { RecentLatency, Sparklines } from './web-sparklines.js';

/**
 * How stale the reverse dependency map may be, ms: depends_on changes only
 * on a reload, while asking for dependents happens on every service change.
 */
const DEPENDENTS_MS = 5_000;

/** One service as the mesh view lists it. */
export interface ServiceSummary {
  name: string;
  status: HealthStatus;
  /** 0–100 */
  score: number;
  /** Why dependencies capped the status, or null. */
  cause: string | null;
  counts: Record<HealthStatus, number>;
  /** Union of its instances' tags and zones (the mesh view filters on them). */
  tags: string[];
  zones: string[];
  dependsOn: string[];
  critical: boolean;
  /**
   * Lowest score of each of the last 60 minutes, oldest first (null: no
   * data), run-length encoded as [value, count, value, count, …]: a steady
   * hour is [100, 60], so the whole mesh's summary stays small to send and parse.
   */
  spark: Array<number | null>;
}

/** The live state of one service, as sent on the dashboard's event stream. */
export interface ServiceState {
  name: string;
  status: HealthStatus;
  score: number;
  cause: string | null;
  counts: Record<HealthStatus, number>;
}

/** One instance as the service view lists it. */
export interface InstanceSummary {
  id: string;
  key: string;
  address: string;
  zone: string | null;
  tags: string[];
  weight: number;
  source: string;
  status: HealthStatus;
  score: number;
  /** Longest last-result duration of its checks, ms; null before any result. */
  latencyMs: number | null;
  checks: Array<{ id: string; name: string; kind: string; status: HealthStatus; reason: string | null; durationMs: number | null; output: string | null }>;
}

/**
 * Reads the registry, the rollup and the sparklines into the shapes the
 * dashboard asks for. Every read is O(1) per service from state kept current
 * on events; only tags and zones walk a service's instances.
 */
export class MeshView {
  /** Service names as of a registry index (the registry walks every instance to list them). */
  private namesAt: { index: number; names: string[]; set: Set<string> } | null = null;
  /** Reverse depends_on, rebuilt at most every DEPENDENTS_MS (it changes only on a reload). */
  private reverse: { at: number; map: Map<string, string[]> } | null = null;

  constructor(
    private readonly registry: Registry,
    private readonly rollup: StatusRollup,
    private readonly engine: Engine,
    private readonly sparklines: Sparklines,
    private readonly clock: Clock,
  ) {}

  /** Every service's name (configured ones too, before their first instance). */
  names(): string[] {
    return this.nameIndex().names;
  }

  has(name: string): boolean {
    return this.nameIndex().set.has(name);
  }

  private nameIndex(): { names: string[]; set: Set<string> } {
    const index = this.registry.index;
    if (this.namesAt?.index !== index) {
      const names = this.registry.serviceNames();
      this.namesAt = { index, names, set: new Set(names) };
    }
    return this.namesAt;
  }

  state(name: string): ServiceState {
    return {
      name,
      status: this.rollup.service(name),
      score: this.rollup.serviceScore(name),
      cause: this.rollup.serviceCause(name),
      counts: this.rollup.serviceCounts(name),
    };
  }

  summary(name: string, now: number): ServiceSummary {
    const tags = new Set<string>();
    const zones = new Set<string>();
    for (const rec of this.registry.instancesOf(name)) {
      for (const t of rec.tags) tags.add(t);
      if (rec.zone) zones.add(rec.zone);
    }
    const settings = this.registry.rollupSettings(name);
    return {
      ...this.state(name),
      tags: [...tags].sort(),
      zones: [...zones].sort(),
      dependsOn: [...(settings.dependsOn ?? [])],
      critical: settings.critical ?? true,
      spark: runLengths(this.sparklines.scores(name, now)),
    };
  }

  /** Latency of a service's results over the last `minutes` minutes, or null with none. */
  latency(name: string, now: number, minutes: number): RecentLatency | null {
    return this.sparklines.latency(name, now, minutes);
  }

  /** Services that depend on `name` directly. */
  dependents(name: string): string[] {
    const now = this.clock.now();
    if (!this.reverse || now - this.reverse.at >= DEPENDENTS_MS) {
      const map = new Map<string, string[]>();
      for (const s of this.names()) {
        for (const dep of this.registry.rollupSettings(s).dependsOn ?? []) {
          const list = map.get(dep);
          if (list) list.push(s);
          else map.set(dep, [s]);
        }
      }
      this.reverse = { at: now, map };
    }
    return this.reverse.map.get(name) ?? [];
  }

  /** A service's instances, worst first (then lowest score, then id). */
  instances(name: string): InstanceSummary[] {
    const rows = this.registry.instancesOf(name).map((rec) => this.instance(rec));
    return rows.sort((a, b) => severity(b.status) - severity(a.status) || a.score - b.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  private instance(rec: InstanceRecord): InstanceSummary {
    let latency: number | null = null;
    const checks = rec.checks.map((spec) => {
      const state = this.engine.get(spec.id)?.state;
      const last = state?.lastResult ?? null;
      if (last) latency = Math.max(latency ?? 0, last.durationMs);
      return {
        id: spec.id,
        name: spec.name,
        kind: spec.kind,
        status: state?.status ?? ('UNKNOWN' as HealthStatus),
        reason: last?.reason ?? null,
        durationMs: last ? Math.round(last.durationMs * 10) / 10 : null,
        output: last?.output ?? null,
      };
    });
    return {
      id: rec.id,
      key: rec.key,
      address: rec.address,
      zone: rec.zone ?? null,
      tags: rec.tags,
      weight: rec.weight,
      source: rec.source,
      status: this.rollup.instance(rec.service, rec.id),
      score: this.rollup.instanceScore(rec.service, rec.id),
      latencyMs: latency === null ? null : Math.round(latency * 10) / 10,
      checks,
    };
  }
}

/** [value, count, value, count, …] of consecutive equal values. */
export function runLengths(values: ReadonlyArray<number | null>): Array<number | null> {
  const out: Array<number | null> = [];
  for (const v of values) {
    if (out.length > 0 && out[out.length - 2] === v) (out[out.length - 1] as number)++;
    else out.push(v, 1);
  }
  return out;
}
