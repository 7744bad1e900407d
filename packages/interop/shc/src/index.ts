export * from './bundle.js';
export * from './errors.js';
export * from './fhir.js';
export * from './jws.js';
export * from './qr.js';
export * from './verify.js';
