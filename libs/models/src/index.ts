export * from './model-manifest.js';
export * from './model-artifact.error.js';
export * from './feature-spec-mismatch.error.js';
export * from './load-manifest.js';
export * from './assert-feature-spec.js';
export * from './resolve-current-model.js';
export * from './onnx-worker-pool.js';
export * from './current-pointer-watcher.js';
