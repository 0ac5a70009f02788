export * from './value-per-impression.js';
export * from './prediction-priors.js';
export * from './utility.js';
export * from './money.js';
export * from './auction-outcome.js';
export * from './gsp.js';
export * from './allocate-in-order.js';
export * from './billing-day.js';
