export * from './experiment-config.js';
export * from './assignment.js';
export * from './statistics.js';
export * from './analysis.js';
export * from './pre-period.js';
