export * from './delivery-counts.js';
export * from './delivery-keys.js';
export * from './delivery-env.js';
export * from './delivery-tally.js';
export * from './delivery-flusher.js';
export * from './delivery-reader.js';
export * from './delivery-diagnosis.js';
export * from './delivery-diagnostics.module.js';
