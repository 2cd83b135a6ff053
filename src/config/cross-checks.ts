/**
 * The checks of a parsed config that its schema cannot express: references
 * between services, unique instance ids and check names, cycles. Both ways
 * of loading a config (config/load.ts, config/fast-load.ts) run them.
 */
import { alertCrossChecks } from './alerts.js';
import type { CheckConfig, Config } from './schema.js';
import { sloCrossChecks } from './slo.js';
import type { PathPart } from './path.js';

/** Checks the schema cannot express: unique ids and names. */
export function crossChecks(config: Config): Array<{ path: PathPart[]; message: string }> {
  const problems: Array<{ path: PathPart[]; message: string }> = [];
  for (const [serviceName, service] of Object.entries(config.services)) {
    service.depends_on.forEach((dep, i) => {
      if (!config.services[dep]) problems.push({ path: ['services', serviceName, 'depends_on', i], message: `no service named "${dep}"` });
      else if (dependsOnPath(config, dep, serviceName)) {
        problems.push({
          path: ['services', serviceName, 'depends_on', i],
          message: `"${dep}" depends on "${serviceName}" already: dependencies must not form a cycle`,
        });
      }
    });
    const quorumNeeded = (policy: string | undefined, quorum: number | undefined, at: PathPart[]) => {
      if (policy === 'k_of_n' && quorum === undefined) problems.push({ path: at, message: 'check_policy k_of_n needs check_quorum: k' });
    };
    quorumNeeded(service.check_policy, service.check_quorum, ['services', serviceName, 'check_policy']);
    service.instances.forEach((inst, i) => {
      quorumNeeded(inst.check_policy, inst.check_quorum ?? service.check_quorum, ['services', serviceName, 'instances', i, 'check_policy']);
    });
    const ids = new Map<string, number>();
    service.instances.forEach((inst, i) => {
      const id = inst.id ?? inst.address;
      const first = ids.get(id);
      if (first !== undefined) {
        problems.push({
          path: ['services', serviceName, 'instances', i, inst.id ? 'id' : 'address'],
          message: `instance id "${id}" is already used by instances[${first}] (give each instance a distinct id:)`,
        });
      } else ids.set(id, i);
      // Paths are built only for a problem: this runs for every instance of a reload (100,000 at the scale bench).
      const names = new Set<string>();
      const twice = (c: CheckConfig, at: PathPart[]): void => {
        problems.push({
          path: [...at, c.name ? 'name' : 'kind'],
          message: `check name "${c.name ?? c.kind}" is used twice for instance "${id}" (give the checks distinct name: fields)`,
        });
      };
      service.checks.forEach((c, j) => {
        const name = c.name ?? c.kind;
        if (names.has(name)) twice(c, ['services', serviceName, 'checks', j]);
        else names.add(name);
      });
      inst.checks.forEach((c, j) => {
        const name = c.name ?? c.kind;
        if (names.has(name)) twice(c, ['services', serviceName, 'instances', i, 'checks', j]);
        else names.add(name);
      });
    });
  }
  config.proxy?.routes.forEach((route, i) => {
    if (!config.services[route.service]) {
      problems.push({ path: ['proxy', 'routes', i, 'service'], message: `no service named "${route.service}" (define it under services:)` });
    }
  });
  problems.push(...alertCrossChecks(config));
  problems.push(...sloCrossChecks(config));
  return problems;
}

/** Whether `from` reaches `to` through depends_on (a cycle if `to` then depends on `from`). */
function dependsOnPath(config: Config, from: string, to: string, seen = new Set<string>()): boolean {
  if (from === to) return true;
  if (seen.has(from)) return false;
  seen.add(from);
  return (config.services[from]?.depends_on ?? []).some((next) => dependsOnPath(config, next, to, seen));
}
