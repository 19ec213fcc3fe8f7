/**
 * The LINE channel end to end, as a deployment runs it: starts `intake start` with intake.config.ts
 * (on a free port, in a data directory of its own), plays the LINE Platform with the stand-in — a
 * citizen's message posted to the gateway's webhook, signed as LINE signs it — and prints the
 * acknowledgement the gateway pushed back through the adapter. Then it stops the gateway.
 *   npx tsx examples/custom-plugin/demo.ts ["the citizen's message"]
 * Against a gateway you started yourself (`intake start --config examples/custom-plugin/intake.config.ts`,
 * which pushes to the stand-in's demo port unless LINE credentials are set):
 *   npx tsx examples/custom-plugin/demo.ts --gateway http://127.0.0.1:3000 ["the citizen's message"]
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import { DEMO_ACCESS_TOKEN, DEMO_CHANNEL_SECRET, DEMO_LINE_PORT } from './demo-settings.ts'
import { startLineApiStandIn, textEvent, webhookBody } from './src/line-api-stand-in.ts'

const { values, positionals } = parseArgs({ options: { gateway: { type: 'string' } }, allowPositionals: true })
const text = positionals[0] ?? 'The street light on Station Road has been out for a week'

/** A port nothing listens on: the OS picks one, the probe lets it go. */
const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const probe = createServer().once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => resolve(port))
    })
  })

/** `intake start` with this example's config, as a deployment runs it; resolves with its address once it is ready. */
async function startGateway(lineApi: string): Promise<{ url: string; child: ChildProcess; dataDir: string }> {
  const cli = join(dirname(createRequire(import.meta.url).resolve('@intake/core')), 'cli', 'main.ts')
  const dataDir = mkdtempSync(join(tmpdir(), 'intake-line-demo-'))
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', cli, 'start', '--config', join(import.meta.dirname, 'intake.config.ts')], {
    env: { ...process.env, INTAKE_PORT: String(port), INTAKE_DATA_DIR: dataDir, LINE_API_BASE_URL: lineApi, INTAKE_LOG_LEVEL: 'warn', INTAKE_BANNER: '0' },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 30_000
  for (;;) {
    const ready = await fetch(`${url}/readyz`).then((r) => r.ok, () => false)
    if (ready) return { url, child, dataDir }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`intake start did not come up on ${url}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

const line = await startLineApiStandIn({ channelSecret: DEMO_CHANNEL_SECRET, channelAccessToken: DEMO_ACCESS_TOKEN, port: values.gateway ? DEMO_LINE_PORT : 0 })
const own = values.gateway ? undefined : await startGateway(line.url)
try {
  const gateway = values.gateway ?? own!.url
  const answer = await line.callback(`${gateway}/channels/line/webhook`, JSON.stringify(webhookBody(textEvent(text, { messageId: String(Date.now()) }))))
  console.log(`the gateway answered LINE's webhook: ${answer.status} ${await answer.text()}`)
  const deadline = Date.now() + 15_000
  while (line.pushed.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
  const [ack] = line.pushed
  if (!ack) throw new Error('no push reached LINE within 15 s')
  console.log(`LINE received a push to ${ack.to}:\n  ${ack.text}`)
} finally {
  await line.close()
  if (own) {
    own.child.kill('SIGTERM')
    await new Promise((r) => own.child.once('exit', r))
    rmSync(own.dataDir, { recursive: true, force: true })
  }
}
