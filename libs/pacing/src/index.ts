export * from './local-day.js';
export * from './traffic-curve.js';
export * from './target-spend.js';
export * from './pacing-controller.js';
export * from './pass-through.js';
