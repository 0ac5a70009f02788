export * from './funnel-launcher.js';
export * from './preflight.js';
