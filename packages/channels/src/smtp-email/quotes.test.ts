import { describe, expect, it } from 'vitest'
import { stripQuoted } from './quotes.ts'

const ack = '您好，您的诉求已收到，编号 K7F3-9Q28，已转交伽师县人民政府办理。'

describe('stripQuoted: what the citizen added, without the history their client quoted', () => {
  const cases: Array<[string, string, string]> = [
    ['Gmail (en): attribution and "> " lines', `Still dark tonight.\n\nOn Fri, Nov 20, 2026 at 10:00 AM Jiashi County <hotline@intake.example> wrote:\n> ${ack}\n>\n> http://intake.test/status/K7F3-9Q28\n`, 'Still dark tonight.'],
    ['Gmail (en): attribution wrapped over two lines', `Still dark.\n\nOn Fri, Nov 20, 2026 at 10:00 AM Jiashi County <\nhotline@intake.example> wrote:\n\n> ${ack}`, 'Still dark.'],
    ['Gmail (zh): "…于2026年11月20日周五 10:00写道："', `今晚还是不亮。\n\n伽师县人民政府 <hotline@intake.example> 于2026年11月20日周五 10:00写道：\n\n> ${ack}`, '今晚还是不亮。'],
    ['Apple Mail (zh): "在 2026年11月20日，10:00，… 写道："', `好的\n\n在 2026年11月20日，10:00，伽师县人民政府 <hotline@intake.example> 写道：\n\n${ack}`, '好的'],
    ['Outlook (en): -----Original Message-----', `Thank you.\n\n-----Original Message-----\nFrom: Jiashi County <hotline@intake.example>\nSent: Friday, November 20, 2026 10:00 AM\n\n${ack}`, 'Thank you.'],
    ['Outlook (zh): 邮件原件 rule', `收到，谢谢。\n\n-----邮件原件-----\n发件人: 伽师县人民政府 <hotline@intake.example>\n发送时间: 2026年11月20日 10:00\n\n${ack}`, '收到，谢谢。'],
    ['Outlook (new): underscore rule then From:/Sent: block', `Fixed, thanks.\n\n________________________________\nFrom: Jiashi County <hotline@intake.example>\nSent: Friday, November 20, 2026 10:00\nTo: Zoe\nSubject: Reply [K7F3-9Q28]\n\n${ack}`, 'Fixed, thanks.'],
    ['Outlook (zh) header block without a rule: 发件人 / 发送时间', `补充照片见附件。\n\n发件人: 伽师县人民政府 <hotline@intake.example>\n发送时间: 2026年11月20日 10:00\n收件人: 买买提\n主题: 您的来信已受理\n\n${ack}`, '补充照片见附件。'],
    ['QQ Mail / Foxmail: ------------------ 原始邮件 ------------------', `好的，谢谢。\n\n------------------ 原始邮件 ------------------\n发件人: "伽师县人民政府"<hotline@intake.example>;\n发送时间: 2026年11月20日(星期五) 上午10:00\n\n${ack}`, '好的，谢谢。'],
    ['QQ Mail (en UI): ------------------ Original ------------------', `OK\n\n------------------\u00a0Original\u00a0------------------\nFrom: "Jiashi County"<hotline@intake.example>;\n\n${ack}`, 'OK'],
    ['NetEase 163: 在 … 写道：', `路灯还是坏的。\n\n在 2026-11-20 10:00:00，"伽师县人民政府" <hotline@intake.example> 写道：\n${ack}`, '路灯还是坏的。'],
    ['signature "-- " and a mobile tag', '门口又积水了。\n\n-- \n买买提\n伽师县巴仁镇\n', '门口又积水了。'],
    ['"Sent from my iPhone" / 发自我的iPhone', 'Water again.\n\nSent from my iPhone', 'Water again.'],
    ['发自我的iPhone', '又积水了\n\n发自我的iPhone', '又积水了'],
    ['inline answers between quotes keep the citizen\'s lines', `> Which street?\nStation Road, near the school.\n> Since when?\nSince Monday.\n`, 'Station Road, near the school.\nSince Monday.'],
    ['a reply that is only a quote stays whole (better too much than nothing)', `> ${ack}`, `> ${ack}`],
    ['no history at all is unchanged', '伽师县巴仁镇的路灯坏了一个月了。\n晚上很黑。', '伽师县巴仁镇的路灯坏了一个月了。\n晚上很黑。'],
    ['a long tail after "--" is not a signature', `Part one\n--\n${Array.from({ length: 20 }, (_, i) => `line ${i}`).join('\n')}`, `Part one\n--\n${Array.from({ length: 20 }, (_, i) => `line ${i}`).join('\n')}`],
  ]
  for (const [name, input, expected] of cases) {
    it(name, () => expect(stripQuoted(input)).toBe(expected))
  }

  it('keeps a sentence that merely mentions someone writing', () => {
    const text = 'My neighbour wrote: the lamp has been out since May.\nPlease send someone.'
    expect(stripQuoted(text)).toBe(text)
  })
})
