/**
 * The demo's routing measured on eval.csv (191 appeals written for the demo's counties, towns and
 * bureaus): a guard for the target that messages naming a place reach the right office ≥ 90% of
 * the time without a language model, with the demo's own chain (routing.ts: category-first, Xinjiang's places).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { buildOfficeDirectory, loadOffices, silentLogger, type IntakeConfig } from '@intake/core'
import { evaluateRouting, readEvalRows } from '../../packages/core/src/cli/route-eval.ts'

const here = import.meta.dirname

async function measure(configFile: string) {
  const config = (await import(join(here, configFile))).default as IntakeConfig
  const offices = buildOfficeDirectory(loadOffices(config.offices as string, here))
  const rows = readEvalRows(readFileSync(join(here, 'eval.csv'), 'utf8'), offices)
  return evaluateRouting(rows, { routing: config.routing, offices, log: silentLogger })
}

describe('county-hotline eval set', () => {
  it('the demo chain routes ≥ 90% of the messages that name a place to the right office', async () => {
    const report = await measure('intake.config.ts')
    expect(report.messages).toBe(191)
    expect(report.groups['names-place']!.office.total).toBe(175)
    expect(report.groups['names-place']!.office.accuracy).toBeGreaterThanOrEqual(0.9)
    // Without a place the intake desk must ask; nothing is guessed into a county.
    expect(report.groups['no-place']!.office.accuracy).toBeGreaterThanOrEqual(0.9)
  })
})
