/**
 * A place an office names in offices.yaml that the routing's place list does not have is an error
 * when the gateway is assembled, naming the file, the office and the key — not an office that
 * quietly never gets the cases of its place.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createIntake, createLogger, type RoutingStrategy } from '@intake/core'
import { webForm } from '@intake/channels/web-form'
import { byJurisdiction, placeList, toIntakeDesk } from '@intake/routing'
import { sqliteStore } from '@intake/storage/sqlite'
import { describe, expect, it } from 'vitest'

const COUNTY = placeList([
  { code: '653129', name: '伽师县', level: 'county' },
  { code: '653129100', name: '巴仁镇', parentCode: '653129', level: 'township' },
  { code: '653129200', name: '铁日木乡', parentCode: '653129', level: 'township' },
], { label: '伽师县的行政区划' })

const OFFICES = (bairen: { code: string; name: string }) =>
  [
    '- id: jiashi',
    '  name: 伽师县人民政府',
    '  intakeDesk: true',
    '  jurisdiction:',
    '    codes: ["653129"]',
    '    places: [{ name: 伽师县, aliases: [Jiashi] }]',
    '- id: jiashi-bairen',
    '  name: 伽师县巴仁镇人民政府',
    '  parentId: jiashi',
    '  jurisdiction:',
    `    codes: ["${bairen.code}"]`,
    `    places: [{ name: ${bairen.name} }]`,
  ].join('\n')

function assemble(offices: string, routing: RoutingStrategy[]) {
  const dir = mkdtempSync(join(tmpdir(), 'intake-office-places-'))
  writeFileSync(join(dir, 'offices.yaml'), offices)
  return createIntake(
    { store: sqliteStore({ file: ':memory:' }), offices: './offices.yaml', channels: { web: webForm() }, routing, apiKeys: ['office-places-test-key-0123'], dataDir: dir },
    { configDir: dir, log: createLogger({ level: 'error', sink: () => {} }), env: {} },
  )
}

describe('places in the offices file', () => {
  it('refuses a code and a name the place list does not have, naming the file, the office and the key', () => {
    expect(() => assemble(OFFICES({ code: '653129190', name: '巴人镇' }), [byJurisdiction({ places: COUNTY }), toIntakeDesk()])).toThrow(
      expect.objectContaining({
        code: 'config_invalid',
        problems: [
          './offices.yaml: offices[1] (jiashi-bairen).jurisdiction.codes[0]: no place in 伽师县的行政区划 has the code "653129190" or a code that begins with it',
          './offices.yaml: offices[1] (jiashi-bairen).jurisdiction.places[0].name: "巴人镇" is not a place in 伽师县的行政区划 (write the name as the list has it, e.g. with its 县/镇/乡; an agency\'s own places go in a placeList)',
        ],
      }),
    )
  })

  it('accepts places the list has: exact codes, codes that begin others, and names (aliases are not checked)', async () => {
    const intake = assemble(OFFICES({ code: '653129100', name: '巴仁镇' }), [byJurisdiction({ places: COUNTY }), toIntakeDesk()])
    await intake.store.close()
    const prefix = assemble(OFFICES({ code: '6531291', name: '巴仁镇' }), [byJurisdiction({ places: COUNTY }), toIntakeDesk()])
    await prefix.store.close()
  })

  it('checks nothing without a place list: the office tree\'s own places are all the gazetteer there is', async () => {
    const intake = assemble(OFFICES({ code: '653129190', name: '巴人镇' }), [byJurisdiction(), toIntakeDesk()])
    await intake.store.close()
  })
})
