import { describe, expect, it } from 'vitest'
import { parseRating } from './rating.ts'

describe('parseRating', () => {
  it('reads digits (full-width too), the three words in Chinese and English, and the words after them', () => {
    expect(parseRating('5')).toEqual({ rating: 5 })
    expect(parseRating('４分')).toEqual({ rating: 4 })
    expect(parseRating('1，灯还是不亮')).toEqual({ rating: 1, words: '灯还是不亮' })
    expect(parseRating('2 处理太慢')).toEqual({ rating: 2, words: '处理太慢' })
    expect(parseRating('3 stars - slow but fixed')).toEqual({ rating: 3, words: 'slow but fixed' })
    expect(parseRating('满意')).toEqual({ rating: 5 })
    expect(parseRating('基本满意，谢谢')).toEqual({ rating: 4, words: '谢谢' })
    expect(parseRating('不满意 没人来')).toEqual({ rating: 1, words: '没人来' })
    expect(parseRating('Satisfied')).toEqual({ rating: 5 })
    expect(parseRating('not satisfied: nobody came')).toEqual({ rating: 1, words: 'nobody came' })
  })

  it('is not fooled by a sentence that starts with a digit or a word', () => {
    expect(parseRating('5 people have not been paid')).toBeUndefined()
    expect(parseRating('6')).toBeUndefined()
    expect(parseRating('12 hours without water')).toBeUndefined()
    expect(parseRating('satisfiedly')).toBeUndefined()
    expect(parseRating('路灯坏了')).toBeUndefined()
  })
})
