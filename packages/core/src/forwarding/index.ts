export { forwardWrite, forwardedCase } from './forward-message.ts'
export { createForwardingWorker, FORWARDED_PER_POLL, type ForwardingWorkerDeps } from './external-updates.ts'
