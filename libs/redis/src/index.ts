export * from './redis-script.js';
