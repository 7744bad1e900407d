export * from './batch.js';
export * from './config.js';
export * from './errors.js';
export * from './events.js';
export * from './fields.js';
export * from './json-schema.js';
export * from './requests.js';
export * from './revoke.js';
