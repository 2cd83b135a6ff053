/**
 * prom-client metric types whose samples are computed when the Registry asks,
 * for the families whose series grow with the mesh (per check, per instance)
 * and for summaries whose quantiles are computed elsewhere.
 *
 * Why not a plain Gauge whose `collect()` calls `reset()` and `set()`: every
 * `set()` builds a label-hash string and validates the labels, and the map it
 * fills stays alive between scrapes. bench/metrics, healthmesh_check_status
 * alone (4 series per check), CPU ms per scrape, medians of alternated rounds
 * on this shared 2-core machine, collect() + set() against this:
 * 100 000 checks 4 702 vs 3 255 and 4 622 vs 3 631 (two runs); spread over
 * the probes between two scrapes (10 s checks, 15 s scrapes) that is 25–37 %
 * of a reused-connection HTTP probe's CPU (0.026 ms, bench/probes), above
 * the 20 % that warrants leaving the textbook path. At 10 000 checks it was
 * 310 vs 241, 418 vs 280 and 287 vs 295 (−2 to 35 %, noise around the line).
 * And collect() + set() keeps ~1.5 KB per check alive between scrapes
 * (160 MB at 100 000 checks); this keeps none. README: Metrics has the rest.
 *
 * How: each class extends the public metric type and overrides its public,
 * typed `get()`, which Registry.metrics() and getMetricsAsJSON() read for
 * these three types (prom-client ~15.1; only Histogram has another path).
 * The shell of the answer (name, help, type, aggregator) comes from
 * `super.get()`; only `values` is replaced. No cast, no undocumented method.
 */
import { familyText } from './sample-text.js';
import { Counter, Gauge, Summary, type CounterConfiguration, type GaugeConfiguration, type SummaryConfiguration } from 'prom-client';

/** One sample of a gauge or counter: value and every label. */
export type Sample = Awaited<ReturnType<Gauge<string>['get']>>['values'][number];
/** One sample of a summary; `metricName` names the `_sum` / `_count` parts. */
export type NamedSample = Awaited<ReturnType<Summary<string>['get']>>['values'][number];

/** Told about a family whose sampler threw; that family is left empty in the scrape. */
export type OnCollectError = (err: unknown, family: string) => void;

/**
 * Run a sampler; on a throw the family is empty rather than the scrape broken.
 * Runs synchronously inside Registry.metrics(), so every family of one scrape
 * sees the same state (and per-scrape memos are shared).
 */
function sampled<S>(name: string, sample: (out: S[]) => void, onError: OnCollectError): S[] {
  const out: S[] = [];
  try {
    sample(out);
  } catch (err) {
    onError(err, name);
    return [];
  }
  return out;
}

/** What each computed type is built from: the usual config, minus what the sampler replaces. */
type Config<C> = Omit<C, 'collect' | 'registers'> & { name: string };

/** A Gauge whose samples are computed on every scrape (never `set()`). */
export class ComputedGauge extends Gauge<string> {
  readonly #family: string;
  readonly #help: string;
  readonly #sample: (out: Sample[]) => void;
  readonly #onError: OnCollectError;

  constructor(config: Config<GaugeConfiguration<string>>, sample: (out: Sample[]) => void, onError: OnCollectError) {
    super({ ...config, registers: [] });
    this.#family = config.name;
    this.#help = config.help;
    this.#sample = sample;
    this.#onError = onError;
  }

  override async get(): ReturnType<Gauge<string>['get']> {
    const values = sampled(this.#family, this.#sample, this.#onError);
    const data = await super.get();
    data.values = values;
    return data;
  }

  /** This family's exposition text (sample-text.ts says why it is not prom-client's). */
  text(): string {
    return familyText(this.#family, this.#help, 'gauge', sampled(this.#family, this.#sample, this.#onError));
  }
}

/** A Counter whose samples are computed on every scrape from counts kept elsewhere (never `inc()`). */
export class ComputedCounter extends Counter<string> {
  readonly #family: string;
  readonly #help: string;
  readonly #sample: (out: Sample[]) => void;
  readonly #onError: OnCollectError;

  constructor(config: Config<CounterConfiguration<string>>, sample: (out: Sample[]) => void, onError: OnCollectError) {
    super({ ...config, registers: [] });
    this.#family = config.name;
    this.#help = config.help;
    this.#sample = sample;
    this.#onError = onError;
  }

  override async get(): ReturnType<Counter<string>['get']> {
    const values = sampled(this.#family, this.#sample, this.#onError);
    const data = await super.get();
    data.values = values;
    return data;
  }

  /** This family's exposition text (sample-text.ts says why it is not prom-client's). */
  text(): string {
    return familyText(this.#family, this.#help, 'counter', sampled(this.#family, this.#sample, this.#onError));
  }
}

/**
 * A Summary whose quantiles, `_sum` and `_count` are computed elsewhere (the
 * scheduler's windowed lag histogram, the store's flush figures) and read on
 * every scrape (never `observe()`).
 */
export class ComputedSummary extends Summary<string> {
  readonly #family: string;
  readonly #sample: (out: NamedSample[]) => void;
  readonly #onError: OnCollectError;

  constructor(config: Config<SummaryConfiguration<string>>, sample: (out: NamedSample[]) => void, onError: OnCollectError) {
    // No percentiles of its own: the digest prom-client keeps stays empty.
    super({ ...config, percentiles: [], registers: [] });
    this.#family = config.name;
    this.#sample = sample;
    this.#onError = onError;
  }

  override async get(): ReturnType<Summary<string>['get']> {
    const values = sampled(this.#family, this.#sample, this.#onError);
    const data = await super.get();
    data.values = values;
    return data;
  }
}
