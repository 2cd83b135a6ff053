import { z } from 'zod';
import type { CheckSpec } from '../core/check.js';
import { realClock, type Clock } from '../core/clock.js';
import { HealthmeshError } from '../core/errors.js';
import { instanceSchema, type CheckConfig, type Config, type Defaults, type ServiceConfig } from '../config/schema.js';
import type { Engine } from '../engine.js';
import type { Registration } from '../store/types.js';
import type { InstancePolicy } from '../status/aggregate.js';
import type { ServicePolicy } from '../status/rollup.js';
import { ChangeIndex, type ChangeListener } from './change-index.js';
import { resolveCheck } from './from-config.js';

/** Where an instance came from: the config file, the HTTP API / library, or DNS discovery. */
export type InstanceSource = 'config' | 'api' | 'dns';

/** An instance as the registry knows it. */
export interface InstanceRecord {
  /** Mesh-wide key: service/id. */
  key: string;
  id: string;
  service: string;
  address: string;
  tags: string[];
  weight: number;
  zone?: string;
  metadata: Record<string, string>;
  source: InstanceSource;
  /** How this instance combines its checks, when it overrides the service. */
  policy?: InstancePolicy;
  /** The instance's own check configs (service checks come from the service). */
  ownChecks: CheckConfig[];
  checks: CheckSpec[];
  /** Epoch ms when registered (config instances: when loaded). */
  registeredAt: number;
}

/** A registration as stored, so it survives a restart (the store's own record). */
export type StoredRegistration = Registration;

/** What the registry needs from the history store. */
export interface RegistrationStore {
  putRegistration(reg: StoredRegistration): Promise<void>;
  deleteRegistration(key: { service: string; id: string }): Promise<void>;
  listRegistrations(): Promise<StoredRegistration[]>;
}

/** Body of a registration (POST /api/v1/instances, or the library). */
export const registrationSchema = instanceSchema.extend({
  service: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, "_", "." and "-"'),
  id: z.string().regex(/^[A-Za-z0-9_.:-]+$/, 'use letters, digits, "_", ".", ":" and "-"'),
});
export type RegistrationInput = z.input<typeof registrationSchema>;

/** The outcome of applying a config: what changed in the check set. */
export interface ApplyReport {
  added: number;
  removed: number;
  changed: number;
  kept: number;
}

interface ServiceEntry {
  name: string;
  minHealthy: number;
  checks: CheckConfig[];
  dependsOn: string[];
  /** Whether this service UNHEALTHY makes the mesh UNHEALTHY. */
  critical: boolean;
  policy: InstancePolicy;
  quorum?: number;
}

function toPolicy(policy: string | undefined, quorum: number | undefined): InstancePolicy | undefined {
  if (policy === 'k_of_n') return { k: quorum ?? 1 };
  return policy as InstancePolicy | undefined;
}

/**
 * Services → instances → checks, from the config, the API and discovery.
 * It owns the engine's check set: every instance change becomes check
 * additions and removals, and a config reload touches only what changed,
 * so unchanged checks keep their state and schedule.
 *
 * It also keeps each service's change index (see ChangeIndex): membership
 * and instance changes move it here, and check events on the engine's bus
 * (added, removed, transition) move it too, since they change what the
 * instance list of that service answers.
 */
export class Registry {
  private readonly services = new Map<string, ServiceEntry>();
  private readonly instances = new Map<string, InstanceRecord>();
  /** The same records by service, so a service's instances cost its size, not the mesh's. */
  private readonly byService = new Map<string, Map<string, InstanceRecord>>();
  private defaults: Defaults;
  /** The service configs applyConfig applied last (with `defaults`): reused objects are left alone next time. */
  private appliedServices?: Map<string, ServiceConfig>;
  private readonly clock: Clock;
  private readonly changes: ChangeIndex;

  /**
   * `clock` gives registration times and times out blocking waits. A bare
   * `now()` function (what this parameter used to be) is still accepted;
   * waits then time out on the real clock.
   */
  constructor(
    private readonly engine: Engine,
    config: Config,
    private readonly store?: RegistrationStore,
    clock: Clock | (() => number) = realClock,
  ) {
    this.defaults = config.defaults;
    this.clock = typeof clock === 'function' ? { now: clock, setTimeout: realClock.setTimeout, clearTimeout: realClock.clearTimeout } : clock;
    this.changes = new ChangeIndex(this.clock);
    const touch = ({ spec }: { spec: CheckSpec }): void => void this.changes.touch(spec.service, spec.instance);
    engine.bus.on('check-added', touch);
    engine.bus.on('check-removed', touch);
    engine.bus.on('transition', touch);
  }

  /** The mesh's change index: moves on every change anywhere (monotonic within a run). */
  get index(): number {
    return this.changes.current;
  }

  /** The change index of one service: moves only when its instances or their checks change. */
  serviceIndex(service: string): number {
    return this.changes.of(service);
  }

  /** Listen to changes: the service, and the instance id when one instance changed. */
  onChange(listener: ChangeListener): () => void {
    return this.changes.onChange(listener);
  }

  /**
   * Make the registry match a (new) config. Instances from the API and from
   * discovery stay; their checks are re-resolved against the new service
   * checks and defaults.
   */
  applyConfig(config: Config): ApplyReport {
    const dirty = this.changedServices(config);
    this.defaults = config.defaults;
    this.services.clear();
    for (const [name, svc] of Object.entries(config.services)) {
      this.services.set(name, {
        name,
        minHealthy: svc.min_healthy,
        checks: svc.checks,
        dependsOn: svc.depends_on,
        critical: svc.critical,
        policy: toPolicy(svc.check_policy, svc.check_quorum) ?? 'worst',
        quorum: svc.check_quorum,
      });
    }
    const report: ApplyReport = { added: 0, removed: 0, changed: 0, kept: 0 };
    // A service whose config is the very object applied last time keeps its records and checks untouched.
    for (const [service, records] of this.byService) {
      if (dirty.has(service)) continue;
      for (const rec of records.values()) report.kept += rec.checks.length;
    }
    const wanted = new Map<string, InstanceRecord>();
    for (const service of dirty) {
      for (const inst of config.services[service]?.instances ?? []) {
        const id = inst.id ?? inst.address;
        wanted.set(`${service}/${id}`, this.build({ ...inst, id, service }, 'config', this.instances.get(`${service}/${id}`)?.registeredAt));
      }
      for (const [key, rec] of this.byService.get(service) ?? []) {
        if (rec.source !== 'config' && !wanted.has(key)) wanted.set(key, this.build({ ...rec, checks: rec.ownChecks }, rec.source, rec.registeredAt));
      }
    }
    const before = new Map<string, InstanceRecord>();
    for (const service of dirty) for (const [key, rec] of this.byService.get(service) ?? []) before.set(key, rec);
    const oldSpecs = new Map<string, CheckSpec>();
    for (const rec of before.values()) for (const spec of rec.checks) oldSpecs.set(spec.id, spec);
    const newSpecs = new Map<string, CheckSpec>();
    for (const rec of wanted.values()) for (const spec of rec.checks) newSpecs.set(spec.id, spec);
    for (const [id, spec] of oldSpecs) {
      const next = newSpecs.get(id);
      if (!next) {
        void this.engine.remove(id);
        report.removed++;
      } else if (!sameSpec(spec, next)) {
        // remove() forgets the check synchronously, so the new one can be added at once.
        void this.engine.remove(id);
        this.engine.add(next);
        report.changed++;
      } else report.kept++;
    }
    for (const [id, spec] of newSpecs) {
      if (!oldSpecs.has(id)) {
        this.engine.add(spec);
        report.added++;
      }
    }
    for (const key of before.keys()) this.instances.delete(key);
    for (const service of dirty) this.byService.delete(service);
    for (const rec of wanted.values()) this.indexRecord(rec);
    // Only the instances a reload changed move their service's index.
    for (const [key, rec] of wanted) if (!sameRecord(before.get(key), rec)) this.changes.touch(rec.service, rec.id);
    for (const [key, rec] of before) if (!wanted.has(key)) this.changes.touch(rec.service, rec.id);
    this.appliedServices = new Map(Object.entries(config.services));
    return report;
  }

  /**
   * The services a new config may change: all of them when the defaults
   * changed; else those whose config is not the object applied last time
   * (config/fast-load.ts reuses the object of a service whose text did not
   * change), those gone from the config, and those with run-time instances
   * only (they may have just got a service entry).
   */
  private changedServices(config: Config): Set<string> {
    const all = new Set([...Object.keys(config.services), ...this.byService.keys()]);
    const last = this.appliedServices;
    if (!last || JSON.stringify(this.defaults) !== JSON.stringify(config.defaults)) return all;
    const dirty = new Set<string>();
    for (const service of all) if (last.get(service) !== config.services[service] || !config.services[service]) dirty.add(service);
    return dirty;
  }

  /** Reload registrations stored by an earlier run. */
  async restore(): Promise<number> {
    if (!this.store) return 0;
    const stored = await this.store.listRegistrations();
    let restored = 0;
    for (const reg of stored) {
      const { registeredAt: _at, ...body } = reg;
      const parsed = registrationSchema.safeParse(body);
      if (!parsed.success) continue; // a registration the current schema rejects is skipped, not fatal
      this.addInstance(this.build(parsed.data, 'api', reg.registeredAt));
      restored++;
    }
    return restored;
  }

  /**
   * Register (or replace) an instance. Resolves after the registration is
   * stored, so an acknowledged registration survives a crash.
   */
  async register(input: unknown): Promise<InstanceRecord> {
    const reg = registrationSchema.parse(input);
    const key = `${reg.service}/${reg.id}`;
    const existing = this.instances.get(key);
    if (existing?.source === 'config') throw new HealthmeshError('conflict', `instance ${key} comes from the config file; edit the file instead`);
    const record = this.build(reg, 'api', this.registrationTime());
    await this.store?.putRegistration({
      id: reg.id,
      service: reg.service,
      address: reg.address,
      tags: reg.tags,
      weight: reg.weight,
      zone: reg.zone,
      metadata: reg.metadata,
      checks: reg.checks,
      registeredAt: record.registeredAt,
    });
    if (existing) await this.removeInstance(existing);
    this.addInstance(record);
    return record;
  }

  /** Remove an instance registered through the API (or discovered). */
  async deregister(key: string): Promise<boolean> {
    const rec = this.instances.get(key);
    if (!rec) return false;
    if (rec.source === 'config') throw new HealthmeshError('conflict', `instance ${key} comes from the config file; edit the file instead`);
    if (rec.source === 'api') await this.store?.deleteRegistration({ service: rec.service, id: rec.id });
    await this.removeInstance(rec);
    return true;
  }

  /** Replace the discovered instances of a service with a new set (DNS SRV refresh). */
  async setDiscovered(service: string, found: Array<{ id: string; address: string; weight: number }>): Promise<void> {
    const keep = new Set(found.map((f) => `${service}/${f.id}`));
    for (const rec of [...this.instances.values()]) {
      if (rec.service === service && rec.source === 'dns' && !keep.has(rec.key)) await this.removeInstance(rec);
    }
    for (const f of found) {
      const key = `${service}/${f.id}`;
      if (this.instances.has(key)) continue;
      this.addInstance(
        this.build({ id: f.id, service, address: f.address, weight: f.weight, tags: [], metadata: {}, checks: [] }, 'dns', this.registrationTime()),
      );
    }
  }

  /** Find an instance by key (service/id) or by bare id when that is unambiguous. */
  instance(idOrKey: string): InstanceRecord | undefined {
    const direct = this.instances.get(idOrKey);
    if (direct) return direct;
    let found: InstanceRecord | undefined;
    for (const rec of this.instances.values()) {
      if (rec.id === idOrKey) {
        if (found) return undefined;
        found = rec;
      }
    }
    return found;
  }

  /** Instances of a service, in registration order. */
  instancesOf(service: string): InstanceRecord[] {
    const records = this.byService.get(service);
    return records ? [...records.values()] : [];
  }

  /** One instance of a service by its id, in O(1) (instance() may scan when given a bare id). */
  instanceOf(service: string, id: string): InstanceRecord | undefined {
    return this.byService.get(service)?.get(`${service}/${id}`);
  }

  /** Whether a service is configured or has instances. */
  hasService(service: string): boolean {
    return this.services.has(service) || this.byService.has(service);
  }

  allInstances(): IterableIterator<InstanceRecord> {
    return this.instances.values();
  }

  serviceNames(): string[] {
    return [...new Set([...this.services.keys(), ...this.byService.keys()])];
  }

  minHealthy(service: string): number {
    return this.services.get(service)?.minHealthy ?? 1;
  }

  /** How the rollup treats a service: min_healthy, check policy per instance, dependencies. */
  rollupSettings(service: string): ServicePolicy {
    const entry = this.services.get(service);
    return {
      minHealthy: entry?.minHealthy ?? 1,
      dependsOn: entry?.dependsOn ?? [],
      critical: entry?.critical ?? true,
      policy: (instance) => this.instances.get(`${service}/${instance}`)?.policy ?? entry?.policy ?? 'worst',
    };
  }

  /** Resolve when the mesh index moves past `index`, or after timeoutMs. */
  waitForChange(index: number, timeoutMs: number): Promise<number> {
    return this.changes.waitAny(index, timeoutMs);
  }

  /**
   * Resolve with `service`'s index once it is no longer `index`, or after
   * timeoutMs: what a blocking query waits on. Only changes of that service
   * end the wait.
   */
  waitForServiceChange(service: string, index: number, timeoutMs: number): Promise<number> {
    return this.changes.wait(service, index, timeoutMs);
  }

  /**
   * Count a change the registry cannot see itself, for blocking queries: of
   * `service` when given, else of every service (which wakes every watcher).
   * Check transitions need no call: the registry follows the engine's bus.
   */
  bump(service?: string): void {
    if (service === undefined) this.changes.touchAll();
    else this.changes.touch(service);
  }

  private build(
    reg: {
      id: string;
      service: string;
      address: string;
      tags?: string[];
      weight?: number;
      zone?: string;
      metadata?: Record<string, string>;
      checks?: CheckConfig[];
      check_policy?: string;
      check_quorum?: number;
    },
    source: InstanceSource,
    registeredAt = this.registrationTime(),
  ): InstanceRecord {
    const ownChecks = reg.checks ?? [];
    const serviceChecks = this.services.get(reg.service)?.checks ?? [];
    const checks = [...serviceChecks, ...ownChecks].map((c) => resolveCheck(c, this.defaults, reg.service, reg.id, reg.address));
    const names = new Set<string>();
    for (const spec of checks) {
      if (names.has(spec.id)) throw new HealthmeshError('invalid', `check name "${spec.name}" is used twice for instance ${reg.service}/${reg.id}`);
      names.add(spec.id);
    }
    return {
      key: `${reg.service}/${reg.id}`,
      id: reg.id,
      service: reg.service,
      address: reg.address,
      tags: reg.tags ?? [],
      weight: reg.weight ?? 1,
      zone: reg.zone,
      metadata: reg.metadata ?? {},
      source,
      policy: toPolicy(reg.check_policy, reg.check_quorum ?? this.services.get(reg.service)?.quorum),
      ownChecks,
      checks,
      registeredAt,
    };
  }

  /** Epoch ms, whole (the store keeps integers). */
  private registrationTime(): number {
    return Math.round(this.clock.now());
  }

  private indexRecord(rec: InstanceRecord): void {
    this.instances.set(rec.key, rec);
    let service = this.byService.get(rec.service);
    if (!service) {
      service = new Map();
      this.byService.set(rec.service, service);
    }
    service.set(rec.key, rec);
  }

  private addInstance(rec: InstanceRecord): void {
    this.indexRecord(rec);
    for (const spec of rec.checks) this.engine.add(spec);
    this.changes.touch(rec.service, rec.id);
  }

  private async removeInstance(rec: InstanceRecord): Promise<void> {
    this.instances.delete(rec.key);
    const service = this.byService.get(rec.service);
    service?.delete(rec.key);
    if (service?.size === 0) this.byService.delete(rec.service);
    // Now, not when the checks are gone (their check-removed events move it again): the record is gone already.
    this.changes.touch(rec.service, rec.id);
    await Promise.all(rec.checks.map((spec) => this.engine.remove(spec.id)));
  }
}

/** Records equal in everything the API shows of them (a reload that keeps them wakes no watcher). */
function sameRecord(a: InstanceRecord | undefined, b: InstanceRecord): boolean {
  if (!a) return false;
  const shown = (r: InstanceRecord) => JSON.stringify([r.address, r.tags, r.weight, r.zone, r.metadata, r.source, r.policy, r.checks]);
  return shown(a) === shown(b);
}

/** Specs equal in everything that affects how the check runs. */
function sameSpec(a: CheckSpec, b: CheckSpec): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
