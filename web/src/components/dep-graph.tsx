/**
 * The dependency neighbourhood of a service (depends_on): what it needs (and
 * what those need) to its left, what needs it to its right. Nodes carry the
 * status icon and word as well as the colour, and are links.
 */
import type { Status } from '../api';
import { href } from '../router';
import { statusClass, StatusIcon, statusWord } from './status';

export interface GraphService {
  name: string;
  status: Status;
  dependsOn: string[];
}

const COL_W = 190;
const ROW_H = 44;
const NODE_W = 160;
const NODE_H = 32;
const MAX_PER_COLUMN = 12;

export function DepGraph({ focus, services, dependents }: { focus: string; services: Map<string, GraphService>; dependents: string[] }) {
  const depsOf = (name: string): string[] => services.get(name)?.dependsOn ?? [];
  const level1 = depsOf(focus);
  const level2 = [...new Set(level1.flatMap(depsOf))].filter((n) => n !== focus && !level1.includes(n));
  const columns = [level2, level1, [focus], dependents].map((c) => c.slice(0, MAX_PER_COLUMN));
  const used = columns.filter((c) => c.length > 0);
  if (level1.length === 0 && dependents.length === 0) return <p class="muted">No dependencies: nothing in depends_on names this service, and it names none.</p>;
  const rows = Math.max(...used.map((c) => c.length));
  const height = rows * ROW_H + 8;
  const pos = new Map<string, { x: number; y: number }>();
  let col = 0;
  for (const c of columns) {
    if (c.length === 0) continue;
    const top = (height - c.length * ROW_H) / 2;
    c.forEach((name, i) => {
      pos.set(name, { x: col * COL_W + 4, y: top + i * ROW_H + 4 });
    });
    col++;
  }
  const width = col * COL_W;
  const edges: Array<[string, string]> = [];
  for (const [name] of pos) for (const dep of depsOf(name)) if (pos.has(dep)) edges.push([name, dep]);
  const truncated = columns.some((c, i) => c.length < [level2, level1, [focus], dependents][i]!.length);
  return (
    <figure class="dep-graph">
      {/* biome-ignore lint/a11y/useSemanticElements: inside an SVG there is no <fieldset>; role=group names the graph */}
      <svg viewBox={`0 0 ${width} ${height}`} width={width} height={height} role="group" aria-label={`Dependencies of ${focus}`}>
        <defs>
          <marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="8" markerHeight="8" orient="auto-start-reverse">
            <path d="M0 0L8 4L0 8z" class="edge-head" />
          </marker>
        </defs>
        {edges.map(([from, to]) => {
          const a = pos.get(from)!;
          const b = pos.get(to)!;
          // Arrows point from a service to what it depends on.
          const [x1, x2] = a.x > b.x ? [a.x, b.x + NODE_W] : [a.x + NODE_W, b.x];
          return <line key={`${from}>${to}`} x1={x1} y1={a.y + NODE_H / 2} x2={x2} y2={b.y + NODE_H / 2} class="edge" marker-end="url(#arrow)" />;
        })}
        {[...pos].map(([name, p]) => {
          const status = services.get(name)?.status ?? 'UNKNOWN';
          return (
            <a
              key={name}
              href={href.service(name)}
              class={`node ${statusClass(status)} ${name === focus ? 'focus' : ''}`}
              aria-label={`${name}: ${statusWord(status)}`}
            >
              <rect x={p.x} y={p.y} width={NODE_W} height={NODE_H} rx="6" />
              <svg x={p.x + 8} y={p.y + 8} width="16" height="16" aria-hidden="true">
                <StatusIcon status={status} />
              </svg>
              <text x={p.x + 30} y={p.y + 20}>
                {name.length > 18 ? `${name.slice(0, 17)}…` : name}
              </text>
            </a>
          );
        })}
      </svg>
      <figcaption class="muted">
        Arrows point to what a service depends on. {truncated ? `At most ${MAX_PER_COLUMN} services a column are shown.` : ''}
      </figcaption>
    </figure>
  );
}
