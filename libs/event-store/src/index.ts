export * from './entities/tracking-event.entity.js';
export * from './entities/served-ad.entity.js';
export * from './entities/ledger-entry.entity.js';
export * from './entities/campaign-day-spend.entity.js';
export * from './event-store-schema.js';
export * from './event-store.js';
export * from './funnel-database.js';
export * from './campaign-day-report.js';
