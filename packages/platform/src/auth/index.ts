export * from './dev-issuer.js';
export * from './jwt.js';
export * from './keycloak.js';
export * from './principal.js';
export * from './recipient-directory.js';
