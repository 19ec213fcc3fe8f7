import { describe, expect, it } from 'vitest'
import { findTrackingCodes, newTrackingCode, parseTrackingCode, TRACKING_ALPHABET } from './index.ts'

describe('tracking codes', () => {
  it('never uses look-alike characters', () => {
    for (const ch of '01OIL') expect(TRACKING_ALPHABET).not.toContain(ch)
    for (let i = 0; i < 500; i++) expect(newTrackingCode()).toMatch(/^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$/)
  })

  it('accepts what a citizen types: lower case, spaces, no dash', () => {
    const code = newTrackingCode()
    expect(parseTrackingCode(code.toLowerCase().replace('-', ' '))).toEqual({ ok: true, code })
    expect(parseTrackingCode(code.replace('-', ''))).toEqual({ ok: true, code })
  })

  it('detects every single mistyped character', () => {
    const code = newTrackingCode().replace('-', '')
    for (let pos = 0; pos < 8; pos++) {
      for (const ch of TRACKING_ALPHABET) {
        if (ch === code[pos]) continue
        const typo = code.slice(0, pos) + ch + code.slice(pos + 1)
        expect(parseTrackingCode(typo)).toEqual({ ok: false, reason: 'check_mismatch' })
      }
    }
  })

  it('detects every swap of two neighbouring characters', () => {
    for (let n = 0; n < 50; n++) {
      const code = newTrackingCode().replace('-', '')
      for (let pos = 0; pos < 7; pos++) {
        if (code[pos] === code[pos + 1]) continue
        const swapped = code.slice(0, pos) + code[pos + 1] + code[pos] + code.slice(pos + 2)
        expect(parseTrackingCode(swapped).ok).toBe(false)
      }
    }
  })

  it('rejects characters outside the alphabet as malformed', () => {
    expect(parseTrackingCode('K7F3-9Q2O')).toEqual({ ok: false, reason: 'malformed' })
    expect(parseTrackingCode('K7F3')).toEqual({ ok: false, reason: 'malformed' })
  })

  it('finds dashed codes in free text and separates mistyped ones', () => {
    const good = newTrackingCode()
    const bad = good.slice(0, 8) + (good[8] === '2' ? '3' : '2')
    const found = findTrackingCodes(`您好，我的编号是 ${good}，还有 ${bad} 这个。Subject: [${good.toLowerCase()}]`)
    expect(found.valid).toEqual([good])
    expect(found.mistyped).toEqual([bad])
    expect(findTrackingCodes('BACKYARD fence is broken').valid).toEqual([])
  })
})
