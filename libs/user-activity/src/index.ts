export * from './category-affinity.js';
export * from './user-activity.js';
export * from './user-activity-env.js';
export * from './user-activity-keys.js';
export * from './user-activity-store.js';
export * from './user-context.js';
