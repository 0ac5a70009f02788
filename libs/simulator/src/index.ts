export * from './rng.js';
export * from './marketplace.js';
export * from './ground-truth.js';
