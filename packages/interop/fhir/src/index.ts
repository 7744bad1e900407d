export * from './ddcc.js';
export * from './errors.js';
export * from './ids.js';
