// The conformance kit is deliberately not re-exported: it imports vitest, which a deployment must
// not load. Tests reach it through `@intake/storage/kit`.
export { sqliteStore, type SqliteStoreOptions } from './sqlite/index.ts'
export { postgresStore, type PostgresStoreOptions } from './postgres/index.ts'
