export * from './infra.js';
export * from './kafka-topics.js';
