export * from './domain.js';
export * from './ad-request.dto.js';
export * from './errors.js';
export * from './bus.js';
export * from './queues.js';
export * from './tracking.js';
export * from './api-keys-file.js';
