import { describe, expect, it } from '@jest/globals';
import { FEATURE_SPEC, featureSpecFingerprint } from '@adfunnel/features';
import { assertFeatureSpec } from './assert-feature-spec.js';
import { FeatureSpecMismatchError } from './feature-spec-mismatch.error.js';
import { manifestFactory } from './model-manifest.factory.js';

describe(assertFeatureSpec.name, () => {
  it('accepts a model trained on this build’s features', () => {
    expect(() => assertFeatureSpec(manifestFactory(), FEATURE_SPEC)).not.toThrow();
  });

  it('refuses another feature spec, naming both fingerprints and dims', () => {
    const grown = { ...FEATURE_SPEC, groups: [...FEATURE_SPEC.groups, { name: 'x', dim: 1, description: '' }], dim: FEATURE_SPEC.dim + 1 };

    const sut = () => assertFeatureSpec(manifestFactory(), grown);

    expect(sut).toThrow(FeatureSpecMismatchError);
    expect(sut).toThrow(
      `model ranking@20250101-00c0ffee was trained on feature spec ${FEATURE_SPEC.name} v${FEATURE_SPEC.version} fp=${featureSpecFingerprint()} ` +
        `dim=${FEATURE_SPEC.dim} but this build computes ${FEATURE_SPEC.name} v${FEATURE_SPEC.version} fp=${featureSpecFingerprint(grown)} ` +
        `dim=${FEATURE_SPEC.dim + 1}; retrain with npm run train`,
    );
  });

  it('refuses a manifest whose input width contradicts its feature spec', () => {
    const manifest = manifestFactory({ inputs: [{ name: 'features', dtype: 'float32', shape: ['N', 12] }] });

    expect(() => assertFeatureSpec(manifest, FEATURE_SPEC)).toThrow(`shape [N, 12] but the feature spec has dim=${FEATURE_SPEC.dim}`);
  });
});
