export * from './budget-defaults.js';
export * from './budget-env.js';
export * from './budget-keys.js';
export * from './budget-redis.js';
export * from './budget-store.js';
export * from './frequency-cap-store.js';
export * from './pacing-store.js';
export * from './reservation-amount.js';
