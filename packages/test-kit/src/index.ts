export * from './database.js';
export * from './issuer.js';
export * from './graphql.js';
