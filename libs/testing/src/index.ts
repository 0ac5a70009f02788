export * from './test-infrastructure.js';
export * from './eventually.js';
export * from './catalog-snapshot.factory.js';
export * from './fake-catalog-snapshots.js';
export * from './seeded-catalog.js';
export * from './test-stage.js';
export * from './test-databases.js';
