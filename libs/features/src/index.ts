export * from './topics.js';
export * from './content-embedding.js';
export * from './feature-spec.js';
export * from './feature-builder.js';
export * from './interest-profile.js';
export * from './text-tokens.js';
export * from './two-tower-spec.js';
export * from './category-mixture.js';
