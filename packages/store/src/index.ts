export * from './certificates.js';
export * from './migrate.js';
export * from './notifications.js';
export * from './outbox.js';
export * from './requests.js';
export * from './revocations.js';
export * from './status-lists.js';
export * from './uploads.js';
