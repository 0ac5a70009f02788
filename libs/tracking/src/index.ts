export * from './tracking-claims.schema.js';
export * from './tracking-token.error.js';
export * from './signed-event-token.js';
export * from './event-id.js';
export * from './tracking-urls.js';
export * from './event-cost.js';
export * from './tracking-secret.env.js';
