/**
 * The operator's commands on the demo's SQLite file, run as the `intake` CLI: `intake user add`
 * prints the sign-in once, `intake user disable` ends the account, `intake send` makes a case; then
 * `intake audit verify` finds both hash chains intact, and after a row of the file is changed or
 * deleted by hand it exits 1 naming that row (or the one whose link it broke).
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type BetterSqlite3 from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { DEMO_DIR } from './support/gateway.ts'

const Database = createRequire(fileURLToPath(import.meta.resolve('@intake/storage/sqlite')))('better-sqlite3') as typeof BetterSqlite3
const ROOT = join(import.meta.dirname, '..')
const dir = mkdtempSync(join(tmpdir(), 'intake-audit-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function intake(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(ROOT, 'packages/core/src/cli/main.ts'), ...args, '--config', join(DEMO_DIR, 'intake.config.ts')], {
      cwd: ROOT,
      env: { ...process.env, INTAKE_DATA_DIR: dir, INTAKE_LOG_LEVEL: 'warn', INTAKE_DATABASE_URL: '' },
    })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

/** Read or change the file as someone with a SQLite shell would. */
function byHand<T = unknown>(sql: string): T[] {
  const db = new Database(join(dir, 'intake.db'))
  try {
    const statement = db.prepare(sql)
    if (statement.reader) return statement.all() as T[]
    statement.run()
    return []
  } finally {
    db.close()
  }
}

describe('intake user and intake audit verify', () => {
  it('accounts are added and disabled from the CLI; verify finds both chains intact, then names the row edited by hand, and the row after one deleted', { timeout: 120_000 }, async () => {
    const added = await intake('user', 'add', '--login', 'li.wei', '--name', '李伟', '--office', 'jiashi', '--role', 'caseworker')
    expect(added.code).toBe(0)
    expect(added.stdout).toMatch(/^added caseworker li\.wei \(李伟\) at jiashi; password: \S{12,}/)
    expect((await intake('user', 'add', '--login', 'li.wei', '--name', '李伟', '--office', 'nowhere', '--role', 'caseworker')).code).not.toBe(0)
    expect((await intake('user', 'disable', 'li.wei')).code).toBe(0)
    expect((await intake('send', '--channel', 'web', '--text', '伽师县巴仁镇路灯不亮', '--from', 'cli-citizen')).code).toBe(0)

    const intact = await intake('audit', 'verify')
    expect(intact.code).toBe(0)
    expect(intact.stdout).toMatch(/caseEvents: \d+ rows, chain intact; head [0-9a-f]{64}/)
    expect(intact.stdout).toMatch(/accountEvents: \d+ rows, chain intact; head [0-9a-f]{64}/)

    // Who disabled the account, rewritten.
    byHand(`update account_events set actor = 'cli:someone-else' where type = 'user_disabled'`)
    const [edited] = byHand<{ id: number }>(`select id from account_events where type = 'user_disabled'`)
    const afterEdit = await intake('audit', 'verify')
    expect(afterEdit.code).toBe(1)
    expect(afterEdit.stdout).toContain(`accountEvents: BROKEN at row ${edited!.id} (edited)`)

    // A case event taken out: the next one no longer follows the one before it.
    const ids = byHand<{ id: number }>(`select id from case_events order by id`).map((r) => r.id)
    expect(ids.length).toBeGreaterThanOrEqual(3)
    byHand(`delete from case_events where id = ${ids[1]}`)
    const afterDelete = await intake('audit', 'verify')
    expect(afterDelete.code).toBe(1)
    expect(afterDelete.stdout).toContain(`caseEvents: BROKEN at row ${ids[2]} (out_of_order)`)
  })
})
