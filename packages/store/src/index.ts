export * from './certificates.js';
export * from './migrate.js';
export * from './outbox.js';
export * from './requests.js';
