export * from './access-control.js';
export * from './errors.js';
export * from './server.js';
