/**
 * The text exposition (Prometheus 0.0.4) of the computed families, written
 * here rather than by prom-client's Registry. prom-client formats and
 * escapes every label of every sample on every scrape; at 100,000 checks
 * (324,000 series with `per_check: status`) that was 2.4–2.6 s of CPU per
 * scrape, above the 1 s the daemon must answer /metrics in. Here the label
 * text of a labels object is formatted once and kept (WeakMap) for as long
 * as the families hand the same object back (state-families.ts keeps them
 * per check and instance), so a scrape mostly joins strings. The output is
 * byte for byte what prom-client writes (test/metrics/exposition.test.ts).
 */
import { Registry } from 'prom-client';
import type { Sample } from './on-scrape.js';

/** A family that writes its own exposition text (on-scrape.ts). */
export interface TextFamily {
  text(): string;
}

function isTextFamily(metric: object): metric is TextFamily {
  return typeof (metric as Partial<TextFamily>).text === 'function';
}

/**
 * The registry's exposition, as Registry.metrics() writes it, with each
 * computed family writing its own part. A registry set to OpenMetrics is
 * left to prom-client. Default labels of the registry (setDefaultLabels) are
 * not added to the computed families: healthmesh sets none.
 */
export async function renderExposition(registry: Registry): Promise<string> {
  if (registry.contentType !== Registry.PROMETHEUS_CONTENT_TYPE) return registry.metrics();
  const parts = await Promise.all(
    registry.getMetricsAsArray().map((metric) => (isTextFamily(metric) ? metric.text() : registry.getSingleMetricAsString(metric.name))),
  );
  return `${parts.join('\n\n')}\n`;
}

const labelTexts = new WeakMap<object, string>();

/** `{a="1",b="2"}` of a labels object, formatted once per object. */
function labelText(labels: Sample['labels']): string {
  let text = labelTexts.get(labels);
  if (text === undefined) {
    const parts: string[] = [];
    for (const [name, value] of Object.entries(labels)) {
      parts.push(`${name}="${typeof value === 'string' ? escapeText(value).replace(/"/g, '\\"') : value}"`);
    }
    text = parts.length > 0 ? `{${parts.join(',')}}` : '';
    labelTexts.set(labels, text);
  }
  return text;
}

function escapeText(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** As prom-client writes a value. */
function valueText(value: number): string {
  if (Number.isNaN(value)) return 'Nan';
  if (!Number.isFinite(value)) return value < 0 ? '-Inf' : '+Inf';
  return `${value}`;
}

/** One family's text: HELP, TYPE and a line per sample, no trailing newline. */
export function familyText(name: string, help: string, type: string, samples: readonly Sample[]): string {
  const escapedName = escapeText(name);
  const lines = [`# HELP ${escapedName} ${escapeText(help)}`, `# TYPE ${escapedName} ${type}`];
  for (const sample of samples) lines.push(`${escapedName}${labelText(sample.labels)} ${valueText(sample.value)}`);
  return lines.join('\n');
}
