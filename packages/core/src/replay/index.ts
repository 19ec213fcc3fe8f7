export * from './nonce-memory.ts'
