export * from './catalog-seeder.js';
export * from './simulated-catalog.js';
export * from './account-settings.js';
