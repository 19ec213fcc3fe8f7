import { describe, expect, it } from 'vitest'
import type { RoutingStrategy } from '../contracts/routing.ts'
import { Office, type OfficeInput } from '../model/index.ts'
import { remitProblems } from './remits.ts'

const strategy = (categories?: string[], extra: object = {}): RoutingStrategy =>
  Object.assign(async function decides() {
    return undefined
  }, categories ? { categories } : {}, extra)
const offices = (...list: OfficeInput[]) => list.map((o) => Office.parse(o))

describe('remits are checked against the categories the routing chain decides', () => {
  it('names the office, the remit entry and the category meant', () => {
    const problems = remitProblems(
      offices({ id: 'county', name: '某县', intakeDesk: true }, { id: 'county-labour', name: '某县人社局', parentId: 'county', remit: ['labour', 'labor'] }),
      [strategy(['labour', 'housing']), strategy(['environment'])],
    )
    expect(problems).toEqual(['offices: "county-labour" remit[1]: no routing strategy decides the category "labor" (did you mean "labour"?); the chain decides: environment, housing, labour'])
  })

  it('checks nothing when the chain does not say what it decides, or learns it from a model', () => {
    const list = offices({ id: 'county', name: '某县', intakeDesk: true, remit: ['anything'] })
    expect(remitProblems(list, [strategy()])).toEqual([])
    expect(remitProblems(list, [strategy(['labour']), strategy(undefined, { learner: {} })])).toEqual([])
  })
})
