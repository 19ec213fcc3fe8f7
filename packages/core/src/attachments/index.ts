export * from './clean-image.ts'
export * from './store-attachment.ts'
