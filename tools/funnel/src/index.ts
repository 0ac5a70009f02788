export * from './funnel-launcher.js';
export * from './preflight.js';
export * from './isolated-funnel-env.js';
