export * from './limiter-store.ts'
export * from './lookup-throttle.ts'
