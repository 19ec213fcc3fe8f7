export * from './outbound.ts'
export * from './landing.ts'
