export * from './pglite.js';
export * from './port.js';
export * from './postgres.js';
