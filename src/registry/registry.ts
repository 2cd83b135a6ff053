import { z } from 'zod';
import type { CheckSpec } from '../core/check.js';
import { HealthmeshError } from '../core/errors.js';
import { instanceSchema, type CheckConfig, type Config, type Defaults } from '../config/schema.js';
import type { Engine } from '../engine.js';
import type { Registration } from '../store/types.js';
import type { InstancePolicy } from '../status/aggregate.js';
import type { ServicePolicy } from '../status/rollup.js';
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
 */
export class Registry {
  private readonly services = new Map<string, ServiceEntry>();
  private readonly instances = new Map<string, InstanceRecord>();
  /** The same records by service, so a service's instances cost its size, not the mesh's. */
  private readonly byService = new Map<string, Map<string, InstanceRecord>>();
  private defaults: Defaults;
  private changeIndex = 1;
  private waiters = new Set<() => void>();

  constructor(
    private readonly engine: Engine,
    config: Config,
    private readonly store?: RegistrationStore,
    private readonly now: () => number = Date.now,
  ) {
    this.defaults = config.defaults;
  }

  /** Monotonic counter bumped on every membership change (blocking queries wait on it). */
  get index(): number {
    return this.changeIndex;
  }

  /**
   * Make the registry match a (new) config. Instances from the API and from
   * discovery stay; their checks are re-resolved against the new service
   * checks and defaults.
   */
  applyConfig(config: Config): ApplyReport {
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
    const wanted = new Map<string, InstanceRecord>();
    for (const [service, svc] of Object.entries(config.services)) {
      for (const inst of svc.instances) {
        const id = inst.id ?? inst.address;
        wanted.set(`${service}/${id}`, this.build({ ...inst, id, service }, 'config', this.instances.get(`${service}/${id}`)?.registeredAt));
      }
    }
    for (const [key, rec] of this.instances) {
      if (rec.source !== 'config' && !wanted.has(key)) wanted.set(key, this.build({ ...rec, checks: rec.ownChecks }, rec.source, rec.registeredAt));
    }
    const report: ApplyReport = { added: 0, removed: 0, changed: 0, kept: 0 };
    const oldSpecs = new Map<string, CheckSpec>();
    for (const rec of this.instances.values()) for (const spec of rec.checks) oldSpecs.set(spec.id, spec);
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
    this.instances.clear();
    this.byService.clear();
    for (const rec of wanted.values()) this.indexRecord(rec);
    this.bump();
    return report;
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
    const record = this.build(reg, 'api', this.now());
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
      this.addInstance(this.build({ id: f.id, service, address: f.address, weight: f.weight, tags: [], metadata: {}, checks: [] }, 'dns', this.now()));
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

  allInstances(): IterableIterator<InstanceRecord> {
    return this.instances.values();
  }

  serviceNames(): string[] {
    const names = new Set(this.services.keys());
    for (const rec of this.instances.values()) names.add(rec.service);
    return [...names];
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

  /** Resolve when the index moves past `index`, or after timeoutMs. */
  waitForChange(index: number, timeoutMs: number): Promise<number> {
    if (this.changeIndex > index) return Promise.resolve(this.changeIndex);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve(this.changeIndex);
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(done);
    });
  }

  /** Count a change that is not a membership change (a status transition) for blocking queries. */
  bump(): void {
    this.changeIndex++;
    const waiting = [...this.waiters];
    this.waiters.clear();
    for (const w of waiting) w();
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
    registeredAt = this.now(),
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

  private indexRecord(rec: InstanceRecord): void {
    this.instances.set(rec.key, rec);
    let service = this.byService.get(rec.service);
    if (!service) this.byService.set(rec.service, (service = new Map()));
    service.set(rec.key, rec);
  }

  private addInstance(rec: InstanceRecord): void {
    this.indexRecord(rec);
    for (const spec of rec.checks) this.engine.add(spec);
    this.bump();
  }

  private async removeInstance(rec: InstanceRecord): Promise<void> {
    this.instances.delete(rec.key);
    const service = this.byService.get(rec.service);
    service?.delete(rec.key);
    if (service?.size === 0) this.byService.delete(rec.service);
    await Promise.all(rec.checks.map((spec) => this.engine.remove(spec.id)));
    this.bump();
  }
}

/** Specs equal in everything that affects how the check runs. */
function sameSpec(a: CheckSpec, b: CheckSpec): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
