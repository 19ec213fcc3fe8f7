export * from './projection.ts'
export * from './working-time.ts'
export * from './figures.ts'
export * from './report.ts'
