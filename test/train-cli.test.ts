/**
 * `intake train` and `intake route-eval --folds` as an operator runs them, on the demo with its
 * trained classifier (examples/county-hotline/trained-routing.config.ts): from a CSV, and from the
 * closed cases of a real SQLite store.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { buildOfficeDirectory, loadOffices } from '@intake/core'
import type { EvalReport } from '../packages/core/src/cli/route-eval.ts'
import { readTrainingCases } from '../packages/core/src/cli/train.ts'
import { sqliteStore } from '@intake/storage/sqlite'
import { makeInboundWrite } from '@intake/storage/kit'
import { DEMO_DIR } from './support/gateway.ts'

const ROOT = join(import.meta.dirname, '..')
const CONFIG = join(DEMO_DIR, 'trained-routing.config.ts')
const dir = mkdtempSync(join(tmpdir(), 'intake-train-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function intake(args: string[], dataDir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(ROOT, 'packages/core/src/cli/main.ts'), ...args, '--config', CONFIG], {
      cwd: ROOT,
      env: { ...process.env, INTAKE_DATA_DIR: dataDir, INTAKE_LOG_LEVEL: 'warn' },
      maxBuffer: 64 * 1024 * 1024,
    })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

describe('intake train', () => {
  it('trains from a CSV and saves the model the config names; route-eval then routes with it', async () => {
    const data = join(dir, 'csv')
    const csv = join(dir, 'history.csv')
    writeFileSync(
      csv,
      [
        'text,subject,category,office',
        ...Array.from({ length: 6 }, (_, i) => [
          `老板拖欠工资${i + 2}个月了,,labour,shule-labour`,
          `工地包工头欠薪跑路了，第${i + 1}次找他,欠薪,labour,shule-labour`,
          `化工厂往河里排污，第${i + 1}回了,,environment,shache-environment`,
          `养殖场臭气熏天${i + 1}年了,排污,environment,shache-environment`,
        ]).flat(),
      ].join('\n'),
    )
    const trained = await intake(['train', csv], data)
    expect(trained.stderr).toBe('')
    expect(trained.code).toBe(0)
    // The demo's config learns categories only (learn: 'category'): the office column is read, not learnt.
    expect(trained.stdout).toMatch(/^trained on 24 messages \(seed 1, C 0\.5\); category: 2 labels from 24 messages \(temperature \d+\.\d\d\); saved .*routing\.model\.json\n$/)
    expect(existsSync(join(data, 'routing.model.json'))).toBe(true)

    const evalCsv = join(dir, 'eval.csv')
    writeFileSync(evalCsv, 'text,expected_office\n疏勒县的工厂老板拖欠我们的工资,shule-labour\n')
    const { stdout } = await intake(['route-eval', evalCsv, '--json'], data)
    const report = JSON.parse(stdout) as EvalReport
    expect(report.misses).toEqual([])
    expect(report.decidedBy).toEqual({ 'trained-classifier': 1 })
  }, 60_000)

  it('says which line of a CSV it cannot use', async () => {
    const csv = join(dir, 'bad.csv')
    writeFileSync(csv, 'text,category,office\n老板拖欠工资,labour,shule-labour\n化工厂排污,environment,no-such-office\n')
    const result = await intake(['train', csv], join(dir, 'bad'))
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('[train] line 3: office "no-such-office" is not in the configured offices')
  }, 60_000)

  it('trains from the store: resolved and closed cases, by the office that resolved them and their category', async () => {
    const data = join(dir, 'store')
    const store = sqliteStore({ file: join(data, 'intake.db') })
    await store.migrate()
    const finished: [string, string, string, 'resolved' | 'closed'][] = []
    for (let i = 0; i < 8; i++) {
      finished.push([`疏勒县的工地老板拖欠工资，第${i + 1}批工人`, 'shule-labour', 'labour', i % 2 ? 'resolved' : 'closed'])
      finished.push([`莎车县的化工厂又在排污，第${i + 1}次了`, 'shache-environment', 'environment', i % 2 ? 'closed' : 'resolved'])
    }
    for (const [text, officeId, category, status] of finished) {
      // Routed first to the intake desk without a category: staff transferred and categorised it.
      await store.recordInbound(makeInboundWrite({ text, case: { status, officeId, category } }))
    }
    // An open case teaches nothing yet.
    await store.recordInbound(makeInboundWrite({ text: '路灯坏了', case: { status: 'in_progress', officeId: 'jiashi', category: 'utilities' } }))
    const read = await readTrainingCases(store, buildOfficeDirectory(loadOffices('offices.yaml', DEMO_DIR)))
    expect(read).toHaveLength(16)
    expect(read).toContainEqual({ text: '莎车县的化工厂又在排污，第1次了', subject: undefined, officeId: 'shache-environment', category: 'environment' })
    await store.close()

    const trained = await intake(['train', '--from-store'], data)
    expect(trained.stderr).toBe('')
    expect(trained.stdout).toMatch(/^trained on 16 messages .*category: 2 labels from 16 messages/)
    const model = JSON.parse(readFileSync(join(data, 'routing.model.json'), 'utf8')) as { heads: { category: { labels: string[] }; office?: unknown } }
    expect(model.heads.category.labels).toEqual(['environment', 'labour'])
    expect(model.heads.office).toBeUndefined()
  }, 60_000)

  it('route-eval --folds 5 cross-validates the demo eval set with the rules alone as the anchor', async () => {
    const { stdout, code } = await intake(['route-eval', join(DEMO_DIR, 'eval.csv'), '--folds', '5', '--json'], join(dir, 'folds'))
    expect(code).toBe(0)
    const report = JSON.parse(stdout) as EvalReport
    expect(report.folds).toBe(5)
    expect(report.messages).toBe(191)
    expect(report.chain).toContain('byTrainedClassifier')
    expect(report.anchor?.chain).not.toContain('byTrainedClassifier')
    expect(report.anchor!.messages).toBe(191)
  }, 120_000)
})
