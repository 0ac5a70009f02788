export * from './compose.js';
export * from './container-env.js';
export * from './kustomize.js';
export * from './metric-registry.js';
export * from './promql.js';
export * from './service-config.js';
