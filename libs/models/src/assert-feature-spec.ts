import { type FeatureSpec, featureSpecFingerprint } from '@adfunnel/features';
import { FeatureSpecMismatchError } from './feature-spec-mismatch.error.js';
import type { ModelManifest } from './model-manifest.js';

/**
 * Refuses a model trained on another feature layout than `spec` (normally FEATURE_SPEC): a different
 * fingerprint or width means every input column could mean something else to the model.
 */
export function assertFeatureSpec(manifest: ModelManifest, spec: FeatureSpec): void {
  const trained = manifest.featureSpec;
  const fingerprint = featureSpecFingerprint(spec);
  const model = `model ${manifest.name}@${manifest.version}`;
  if (trained.fingerprint !== fingerprint || trained.dim !== spec.dim || trained.name !== spec.name) {
    throw new FeatureSpecMismatchError(
      `${model} was trained on feature spec ${trained.name} v${trained.version} fp=${trained.fingerprint} ` +
        `dim=${trained.dim} but this build computes ${spec.name} v${spec.version} fp=${fingerprint} ` +
        `dim=${spec.dim}; retrain with npm run train`,
    );
  }
  const input = manifest.inputs[0];
  const width = input.shape[input.shape.length - 1];
  if (width !== spec.dim) {
    throw new FeatureSpecMismatchError(
      `${model} declares input "${input.name}" with shape [${input.shape.join(', ')}] but the feature spec ` +
        `has dim=${spec.dim}; the manifest is inconsistent, retrain with npm run train`,
    );
  }
}
