export * from './catalog-seeder.js';
export * from './simulated-catalog.js';
