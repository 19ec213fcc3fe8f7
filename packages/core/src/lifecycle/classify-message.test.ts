import { describe, expect, it } from 'vitest'
import { newTrackingCode } from '../tracking-code/index.ts'
import { classifyMessage } from './classify-message.ts'

const code = newTrackingCode(() => 3)
// One character changed: the check fails.
const typo = code.slice(0, 8) + (code[8] === '2' ? '3' : '2')

describe('classifyMessage', () => {
  it.each([
    [`查询 ${code}`],
    [`进度 ${code}`],
    [`进度：${code}？`],
    [`查询进度 ${code}`],
    [`请查询一下 ${code}`],
    [`status ${code}`],
    [`Status: ${code.toLowerCase()}`],
    [`/status ${code}`],
    [`/status@intake_bot ${code}`],
    [`  ${code}  `],
    [`查询 ${code.replace('-', '')}`],
  ])('reads %j as a status query for the code', (text) => {
    expect(classifyMessage(text)).toEqual({ kind: 'status_query', code })
  })

  it.each([['查询'], ['进度'], ['status'], ['/status'], ['查询进度？']])('reads %j as a query without a code', (text) => {
    expect(classifyMessage(text)).toEqual({ kind: 'status_query' })
  })

  it('says which code looks mistyped', () => {
    expect(classifyMessage(`查询 ${typo}`)).toEqual({ kind: 'status_query', mistyped: typo })
    expect(classifyMessage(typo)).toEqual({ kind: 'status_query', mistyped: typo })
  })

  it.each([
    [`查询 ${code} 路灯还是不亮，已经三天了`],
    [`${code} the light is still out`],
    ['路灯坏了'],
    ['5'],
    ['status of the bridge repair on Main Street'],
    ['HELLOBOB'],
  ])('leaves %j to the other branches (text)', (text) => {
    expect(classifyMessage(text)).toEqual({ kind: 'text' })
  })

  it('takes a status button (intent) as a query, with or without a code', () => {
    expect(classifyMessage('', 'status')).toEqual({ kind: 'status_query' })
    expect(classifyMessage(`my code ${code}`, 'status')).toEqual({ kind: 'status_query', code })
  })
})
