/**
 * Plays the LINE Platform against a running gateway (see intake.config.ts): starts the LINE stand-in
 * on its demo port, posts a citizen's message to the gateway's webhook, signed as LINE signs it, and
 * prints the acknowledgement the gateway pushed back through the adapter.
 *   npx tsx examples/custom-plugin/demo.ts ["the citizen's message"]
 */
import { DEMO_ACCESS_TOKEN, DEMO_CHANNEL_SECRET, DEMO_LINE_PORT } from './demo-settings.ts'
import { startLineApiStandIn, textEvent, webhookBody } from './src/line-api-stand-in.ts'

const gateway = process.env.INTAKE_URL ?? 'http://127.0.0.1:3000'
const text = process.argv[2] ?? 'The street light on Station Road has been out for a week'
const line = await startLineApiStandIn({ channelSecret: DEMO_CHANNEL_SECRET, channelAccessToken: DEMO_ACCESS_TOKEN, port: DEMO_LINE_PORT })
try {
  const answer = await line.callback(`${gateway}/channels/line/webhook`, JSON.stringify(webhookBody(textEvent(text, { messageId: String(Date.now()) }))))
  console.log(`gateway answered the webhook: ${answer.status} ${await answer.text()}`)
  const deadline = Date.now() + 15_000
  while (line.pushed.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
  const [ack] = line.pushed
  console.log(ack ? `LINE received a push to ${ack.to}:\n  ${ack.text}` : 'no push arrived within 15 s: is the gateway running with examples/custom-plugin/intake.config.ts?')
  process.exitCode = ack ? 0 : 1
} finally {
  await line.close()
}
