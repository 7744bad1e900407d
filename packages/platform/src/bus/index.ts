/** The event bus port and its two adapters (DESIGN §4, §6). */

export * from './dead-letters.js';
export { createKafkaBus, type KafkaBusOptions, type KafkaConsumerTuning, type KafkaLogLevel } from './kafka.js';
export { createMemoryBus, type MemoryBusOptions } from './memory.js';
export * from './port.js';
