import { FEATURE_SPEC, featureSpecFingerprint } from '@adfunnel/features';
import type { ModelManifest } from './model-manifest.js';

export function manifestFactory(overrides: Partial<ModelManifest> = {}): ModelManifest {
  const metrics = {
    rows: 1000,
    auc: 0.7,
    logloss: 0.16,
    baseRateLogloss: 0.18,
    normalizedEntropy: 0.9,
    calibration: 1,
    bayesLogloss: 0.15,
  };
  return {
    name: 'ranking',
    version: '20250101-00c0ffee',
    createdAt: '2025-01-01T00:00:00Z',
    file: 'model.onnx',
    featureSpec: {
      name: FEATURE_SPEC.name,
      version: FEATURE_SPEC.version,
      fingerprint: featureSpecFingerprint(),
      dim: FEATURE_SPEC.dim,
    },
    inputs: [{ name: 'features', dtype: 'float32', shape: ['N', FEATURE_SPEC.dim] }],
    outputs: [
      { name: 'p_ctr', dtype: 'float32', shape: ['N'] },
      { name: 'p_cvr', dtype: 'float32', shape: ['N'] },
    ],
    metrics: { ctr: metrics, cvr: metrics },
    trainingData: { rows: 1000, seed: 7 },
    ...overrides,
  };
}
