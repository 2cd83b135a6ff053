/**
 * Anomaly detectors, one file a kind, collected in one typed map. `robust` is
 * the one healthmesh runs; `ewma-z` and `windowed-gaussian` are the simple
 * baselines it is measured against.
 */
import { EwmaZDetector } from './ewma-z.js';
import { RobustDetector } from './robust.js';
import type { DetectorFactory, DetectorKind } from './types.js';
import { WindowedGaussianDetector } from './windowed-gaussian.js';

export { EwmaZDetector } from './ewma-z.js';
export { RobustDetector, ROBUST_FLAG_SCORE } from './robust.js';
export { WindowedGaussianDetector } from './windowed-gaussian.js';
export { scoreOfTail, type AnomalyDetector, type DetectorFactory, type DetectorKind, type DetectorOptions } from './types.js';

/** All detector kinds by name. */
export const detectorKinds = {
  robust: (options = {}) => new RobustDetector(options),
  'ewma-z': (options = {}) => new EwmaZDetector(options),
  'windowed-gaussian': (options = {}) => new WindowedGaussianDetector(options),
} satisfies Record<DetectorKind, DetectorFactory>;
