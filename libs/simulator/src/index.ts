export * from './rng.js';
export * from './marketplace.js';
export * from './ground-truth.js';
export * from './fatigue-state.js';
export * from './user-response.js';
export * from './advertiser-value.js';
export * from './arrivals.js';
export * from './latent-ad-table.js';
