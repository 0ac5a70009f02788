export * from './ad-index.js';
export * from './top-k.js';
