/**
 * Root-cause suppression over `depends_on`: an alert on a service one of
 * whose dependencies (transitively, through chains and diamonds) is already
 * alerting is folded into the alert of the root: the dependency that alerts
 * while none of its own dependencies do. Affects notifications only.
 */

/** The dependency graph of services, with transitive dependencies cached. */
export class DependencyGraph {
  private readonly closure = new Map<string, readonly string[]>();

  constructor(private readonly dependsOn: (service: string) => readonly string[]) {}

  /** Forget cached closures (depends_on changed). */
  invalidate(): void {
    this.closure.clear();
  }

  /** Every service `service` depends on, directly or not, nearest first (breadth-first; cycles cut). */
  ancestors(service: string): readonly string[] {
    const cached = this.closure.get(service);
    if (cached) return cached;
    const seen = new Set<string>([service]);
    const order: string[] = [];
    const queue = [...this.dependsOn(service)];
    while (queue.length) {
      const next = queue.shift()!;
      if (seen.has(next)) continue;
      seen.add(next);
      order.push(next);
      queue.push(...this.dependsOn(next));
    }
    this.closure.set(service, order);
    return order;
  }

  /**
   * The root causes of `service`: ancestors that alert (`alerting(s)`) and
   * have no alerting ancestor themselves, sorted by name. Empty when no
   * dependency alerts.
   */
  roots(service: string, alerting: (service: string) => boolean): string[] {
    const roots: string[] = [];
    for (const s of this.ancestors(service)) {
      if (alerting(s) && !this.ancestors(s).some(alerting)) roots.push(s);
    }
    return roots.sort();
  }
}

/** "orders, payments and 12 more are down because postgres is down". */
export function rootCauseSentence(root: string, dependents: readonly string[], shown = 2): string {
  const unique = [...new Set(dependents)].sort();
  if (unique.length === 0) return `${root} is down`;
  const head = unique.slice(0, shown);
  const rest = unique.length - head.length;
  const list = rest > 0 ? `${head.join(', ')} and ${rest} more` : head.length === 2 ? `${head[0]} and ${head[1]}` : head[0]!;
  return `${list} ${unique.length === 1 ? 'is' : 'are'} down because ${root} is down`;
}
