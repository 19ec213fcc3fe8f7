/**
 * The agency's outbound relay during a gateway run (the acknowledgements go there), in its own
 * process so parsing what it receives does not compete with the load generator. Talks to run.ts
 * over IPC: sends `{ port }` once listening, answers `'count'` with the mails received so far.
 */
import { startRelayServer } from '@intake/channels/smtp-email/relay-server'

const relay = await startRelayServer()
process.send!({ port: relay.port })
process.on('message', (msg) => {
  if (msg === 'count') process.send!({ count: relay.received.length, distinctMessageIds: new Set(relay.received.map((m) => m.messageId)).size })
})
process.on('disconnect', () => void relay.close().then(() => process.exit(0)))
