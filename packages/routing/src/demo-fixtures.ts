/**
 * The county-hotline demo (examples/county-hotline) as routing tests use it: the office tree, the
 * keyword rules, and earlier cases for tracking-code lookups. For tests only.
 */
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { z } from 'zod'
import { Office, type Case } from '@intake/core'
import { loadKeywordRules, type KeywordRule } from './by-keywords.ts'
import { KIT_NOW } from './kit/index.ts'

function demoFile(name: string): string {
  return readFileSync(new URL(`../../../examples/county-hotline/${name}`, import.meta.url), 'utf8')
}

export const demoOffices: Office[] = z.array(Office).parse(parse(demoFile('offices.yaml')))
export const demoKeywordRules: KeywordRule[] = loadKeywordRules(demoFile('keywords.yaml'))

/** An earlier case handled by `officeId`, as the store would return it. */
export function earlierCase(trackingCode: string, officeId: string, overrides: Partial<Case> = {}): Case {
  const day = 24 * 60 * 60 * 1000
  return {
    id: `case-${trackingCode}`,
    trackingCode,
    status: 'resolved',
    officeId,
    category: null,
    urgency: 'normal',
    channelId: 'sms',
    citizen: { channelId: 'sms', id: '+8613900000001' },
    contact: null,
    anonymous: false,
    summary: 'earlier case',
    place: null,
    placeCode: null,
    placeName: null,
    language: 'zh-CN',
    deadlineAt: null,
    createdAt: KIT_NOW - 30 * day,
    updatedAt: KIT_NOW - 20 * day,
    resolvedAt: KIT_NOW - 20 * day,
    rating: null,
    assigneeId: null,
    clusterId: null,
    ...overrides,
  }
}
