/**
 * The demo gateway as a child process (`intake start` on examples/county-hotline), for tests that
 * kill it or run several of it on one database; and a signed POST to its api channel.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { signRequest } from '@intake/channels/api'
import { DEMO_DIR } from './gateway.ts'

const ROOT = join(import.meta.dirname, '..', '..')

export interface GatewayProcess {
  port: number
  child: ChildProcess
  /** What it printed so far (for failure messages). */
  output(): string
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>
  /** SIGTERM, and wait for the exit. */
  stop(): Promise<void>
}

/** Starts `intake start` (with `args`, e.g. `--workers 2`) with these environment variables and waits for /readyz. */
export async function startGatewayProcess(port: number, env: Record<string, string>, args: string[] = []): Promise<GatewayProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'packages/core/src/cli/main.ts'), 'start', '--config', join(DEMO_DIR, 'intake.config.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, INTAKE_PORT: String(port), INTAKE_LOG_LEVEL: 'warn', INTAKE_BANNER: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.on('data', (d) => (output += d))
  child.stderr!.on('data', (d) => (output += d))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const gateway: GatewayProcess = {
    port,
    child,
    output: () => output,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      await exited
    },
  }
  // Generous: a busy shared machine, and N workers each loading the gazetteer and a delivery thread.
  const deadline = Date.now() + 120_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`)
      if (res.ok) return gateway
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  await gateway.kill()
  throw new Error(`gateway on port ${port} did not become ready:\n${output}`)
}

export type SendOutcome = { status: number; caseId?: string; duplicate?: boolean } | { error: string }

/** POSTs one signed api-channel message; a connection failure is an outcome, not a throw. */
export async function sendApiMessage(port: number, secret: string, message: { id: string; from: { id: string }; text: string }): Promise<SendOutcome> {
  const body = JSON.stringify(message)
  try {
    const res = await fetch(`http://127.0.0.1:${port}/channels/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signRequest(secret, body) },
      body,
    })
    const json = (await res.json()) as { results?: Array<{ caseId: string; duplicate: boolean }> }
    return { status: res.status, caseId: json.results?.[0]?.caseId, duplicate: json.results?.[0]?.duplicate }
  } catch (err) {
    return { error: (err as Error).message }
  }
}

export const isAcknowledged = (r: SendOutcome): r is { status: number; caseId: string } =>
  'status' in r && r.status >= 200 && r.status < 300 && typeof r.caseId === 'string'
