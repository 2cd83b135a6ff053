/**
 * Load-balancing pickers, one file a kind, collected in one typed map.
 * Every factory takes the membership and the shared PickerOptions.
 */
import type { Instance, Picker, PickerOptions } from '../types.js';
import { LeastLatencyPicker } from './least-latency.js';
import { MaglevPicker } from './maglev.js';
import { P2cPicker } from './p2c.js';
import { RandomPicker } from './random.js';
import { WrrPicker } from './wrr.js';

export { LeastLatencyPicker, type LeastLatencyOptions } from './least-latency.js';
export { MaglevPicker, maglevTableSize, type MaglevOptions } from './maglev.js';
export { P2cPicker } from './p2c.js';
export { RandomPicker } from './random.js';
export { WrrPicker } from './wrr.js';
export { fnv1a, fmix32, hashKey, nextPrime, isPrime } from './hash.js';

/** Names of the picker kinds. */
export type PickerKind = 'wrr' | 'p2c' | 'least-latency' | 'maglev' | 'random';

/** Builds a picker over a membership. */
export type PickerFactory = (instances: readonly Instance[], options: PickerOptions) => Picker;

/** All picker kinds by name. */
export const pickerKinds = {
  wrr: (instances, options) => new WrrPicker(instances, options),
  p2c: (instances, options) => new P2cPicker(instances, options),
  'least-latency': (instances, options) => new LeastLatencyPicker(instances, options),
  maglev: (instances, options) => new MaglevPicker(instances, options),
  random: (instances, options) => new RandomPicker(instances, options),
} satisfies Record<PickerKind, PickerFactory>;
