/**
 * Builds the labelled evaluation sets of this example from public 311 records:
 *
 *   npx tsx examples/city-311/derive-eval.ts /path/to/fixtures/311
 *
 * Sources (see fixtures/SOURCES.md of the shared fixtures):
 * - sf311_sample_3200.csv: San Francisco 311 cases (DataSF, ODC PDDL), via
 *   github.com/Maarham/UPenn_500_Proj data/311_service_requests.csv @ 77813641, a random sample.
 * - stlouis_csb_2012.csv: St. Louis Citizens' Service Bureau requests of 2012 (City of St. Louis
 *   open data), via github.com/PostDispatchInteractive/trash-update data-22/2012.csv @ 3dca8a90.
 *
 * What a row becomes: the text a resident or operator gives (San Francisco: the request category
 * as subject, complaint type and descriptor as text; St. Louis: the problem code as subject, its
 * plain-English name and description as text), the address as the place field, and the department
 * that handled it as expected_office (queues mapped to departments below). Rows whose department
 * this example does not model are left out, as are San Francisco's noise reports (split between
 * queues with nothing in the text to tell them apart). At most CAP rows per kind of request, so a
 * few very common kinds (tree inspections are 43% of St. Louis's year) do not drown the rest.
 * The labels are the cities' own dispatch, noise included: San Francisco sent on-street flooding
 * to the PUC or to Public Works, and St. Louis stray cats to two programmes (merged here).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseCsv } from '../../packages/core/src/cli/route-eval.ts'

const CAP_SF = 10
const CAP_STL = 10
const here = import.meta.dirname

function records(file: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(readFileSync(file, 'utf8'))
  return rows.map((r) => Object.fromEntries(header!.fields.map((name, i) => [name, r.fields[i] ?? ''])))
}

const quote = (value: string) => (/[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value)
function writeCsv(file: string, rows: string[][]) {
  writeFileSync(file, rows.map((r) => r.map(quote).join(',')).join('\n') + '\n')
}
const tidy = (s: string) => s.replace(/_/g, ' ').replace(/\s+/g, ' ').trim()

function sfOffice(agency: string): string | undefined {
  const rules: [RegExp, string][] = [
    [/^PUC\b/, 'sf-puc'],
    [/^(SSP - MTA|SFMTA|zzSFMTA|DPT|MUNI)\b/, 'sf-mta'],
    [/^Housing Authority\b/, 'sf-housing-authority'],
    [/^DPW\b/, 'sf-public-works'],
    [/^311 /, 'sf-311'],
    [/^City Attorney\b/, 'sf-city-attorney'],
    [/^(Treasurer\/Tax Collector|Triage - TTX)\b/, 'sf-treasurer'],
    [/^County Clerk\b/, 'sf-county-clerk'],
    [/^Assessor\b/, 'sf-assessor'],
    [/^DPH\b/, 'sf-public-health'],
    [/^Animal Care and Control\b/, 'sf-animal-care'],
    [/^Police Department\b/, 'sf-police'],
    [/^Planning\b/, 'sf-planning'],
    [/^DBI\b/, 'sf-building-inspection'],
    [/^(zz)?RPD\b/, 'sf-recreation-parks'],
  ]
  return rules.find(([re]) => re.test(agency))?.[1]
}

const STL_OFFICES: Record<string, string> = {
  FORESTRY: 'stl-forestry',
  NST: 'stl-nst',
  'BUILDING DIV': 'stl-building',
  'BLDG LEAD INSP': 'stl-building',
  'BLDG TRADES': 'stl-building',
  REFUSE: 'stl-refuse',
  RECYCLING: 'stl-refuse',
  TNR: 'stl-animal-care',
  'METRO ANIMAL': 'stl-animal-care',
  'ANIMAL CARE': 'stl-animal-care',
  'STRAY RESCUE': 'stl-animal-care',
  'TREAS PRKG SVC': 'stl-treasurer',
  TREASURER: 'stl-treasurer',
  'STREET DEPT': 'stl-streets',
  'STREET DIVISION': 'stl-streets',
  'TRAFFIC DIVISION': 'stl-traffic',
  'PPU CITY COUNSELOR': 'stl-city-counselor',
  'COMM SANITATION': 'stl-health',
  'VECTOR CNTRL': 'stl-health',
  'FOOD CNTRL': 'stl-health',
  'AIR POLLUTION': 'stl-health',
  'ENVIRONMENTAL INVESTIGATIONS': 'stl-health',
  LRA: 'stl-lra',
  'LICENSE COLL': 'stl-license-collector',
  EXCISE: 'stl-license-collector',
  'FIRE DEPT': 'stl-fire',
  'OP BRIGHTSIDE': 'stl-brightside',
  'WATER DIV': 'stl-water',
  'PARKS DIV': 'stl-parks',
  'CITY EMRGCY MNG': 'stl-emergency-management',
  CSB: 'stl-csb',
}

function capped<T>(rows: T[], kind: (row: T) => string, cap: number): T[] {
  const seen = new Map<string, number>()
  return rows.filter((row) => {
    const n = (seen.get(kind(row)) ?? 0) + 1
    seen.set(kind(row), n)
    return n <= cap
  })
}

const fixtures = process.argv[2]
if (!fixtures) {
  console.error('usage: npx tsx examples/city-311/derive-eval.ts /path/to/fixtures/311')
  process.exit(2)
}

const HEADER = ['text', 'subject', 'place', 'lat', 'lon', 'expected_office', 'source']

const sf = records(join(fixtures, 'sf311_sample_3200.csv'))
  .filter((r) => r.category !== 'Noise Report')
  .map((r) => ({ r, office: sfOffice(r.agency_name!) }))
  .filter((x): x is { r: Record<string, string>; office: string } => x.office !== undefined)
const sfRows = capped(sf, ({ r, office }) => [r.category, r.complaint_type, r.descriptor, office].join('|'), CAP_SF).map(({ r, office }) => {
  const type = tidy(r.complaint_type!)
  const descriptor = tidy(r.descriptor!)
  const address = r.incident_address!.startsWith('Not associated') ? '' : r.incident_address!
  const located = Number(r.latitude) !== 0 && r.latitude !== ''
  return [
    descriptor && descriptor !== type ? `${type}: ${descriptor}` : type,
    tidy(r.category!),
    address,
    located ? r.latitude! : '',
    located ? r.longitude! : '',
    office,
    `sf311_sample_3200.csv unique_key=${r.unique_key}`,
  ]
})
writeCsv(join(here, 'san-francisco', 'eval.csv'), [HEADER, ...sfRows])

const stl = records(join(fixtures, 'stlouis_csb_2012.csv'))
  .map((r) => ({ r, office: STL_OFFICES[r.SUBMITTO!.split(',')[0]!.trim()] }))
  .filter((x): x is { r: Record<string, string>; office: string } => x.office !== undefined)
const stlRows = capped(stl, ({ r, office }) => `${r.PROBLEMCODE}|${office}`, CAP_STL).map(({ r, office }) => {
  const code = r.PROBLEMCODE!.trim()
  const plain = r.PLAIN_ENGLISH_NAME_FOR_PROBLEMCODE!.trim()
  const description = r.DESCRIPTION!.trim()
  // "Caller Name/# required" and the like are notes to the operator, not the resident's words.
  const said = [plain || code]
  if (description && !/name\/#/i.test(description) && description !== code && description !== plain) said.push(description)
  return [said.join('. '), code, r.PROBADDRESS!.trim(), '', '', office, `stlouis_csb_2012.csv REQUESTID=${r.REQUESTID}`]
})
writeCsv(join(here, 'st-louis', 'eval.csv'), [HEADER, ...stlRows])

console.log(`san-francisco/eval.csv: ${sfRows.length} rows; st-louis/eval.csv: ${stlRows.length} rows`)
