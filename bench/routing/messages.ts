/**
 * Citizen messages for bench/routing: 100–130 character hotline messages on eight topics (wages,
 * roads, pollution, housing, medicine, schools, welfare, land), with the place written the ways
 * people write it — county and township, a township alone, a short form, a village with its
 * township, a bare village, no place at all, a village named with an ordinary word, a town name
 * 88 places share — and one message in English. Deterministic: message n is always the same.
 */

import { PLACES } from '../intake/messages.ts'

const TEMPLATES: readonly string[] = [
  '您好，我是在{place}一个建筑工地干活的农民工，去年九月到今年一月一共干了四个多月，老板到现在还拖欠我们十二个人的工资，一共大概十八万元。包工头一直说甲方没给钱，现在电话也不接了，请政府帮我们讨个说法。',
  '{place}往村委会方向的那条主路最近坑洼特别多，最大的坑有半米宽，下雨以后积满了水根本看不出来。前天晚上一个骑电动车的老人摔倒了，路灯也坏了好几盏，希望有关部门尽快派人来修一修。',
  '我家住在{place}，附近有一个小加工厂每天晚上十点以后开始排污，沟里的水都变成黑色的，臭味很大，窗户都不敢开。家里老人和孩子最近老是咳嗽，请环保部门来现场查一查是不是违法排放。',
  '我是{place}的居民，住的是单位分的老房子，今年开春以来楼顶一直漏水，卧室墙皮大面积脱落，电线也泡了水，很不安全。找过物业三次，到现在两个月了还是没人来管，请帮忙督促一下尽快维修。',
  '我父亲在{place}，患有高血压和糖尿病，每个月要去乡卫生院拿药。这次去的时候说药品断货了，让我们去县里医院买，可是老人行动不便，现在药快吃完了，请帮忙协调一下尽快把药配送到卫生院。',
  '孩子今年七岁，户口在{place}，我们全家去年从外地搬回来。到学校报名入学的时候，学校说片区名额已满，让我们去十几公里外的另一所学校。我们有房产证和居住证明，请问入学的政策是怎么规定的。',
  '我母亲今年七十三岁，住在{place}，以前一直领低保和养老金，从上个月开始低保突然停发了，村里说是系统复核没通过，但是没有人告诉我们是什么原因。老人一个人生活，希望能尽快查明原因恢复救助。',
  '想反映一个情况：{place}集市旁边那块空地最近被人圈起来了，说是要建停车场，但是一直没有看到任何公示。施工车辆每天早上六点就进出，尘土很大，请问这个项目是哪个部门批准的，能否公开信息。',
]

const FORMS: readonly ((place: string) => string)[] = [
  (place) => place, // 伽师县巴仁镇
  (place) => place.replace(/^.+?[县市]/, ''), // 巴仁镇
  (place) => place.replace(/^(.+?)[县市].*$/, '$1'), // 伽师
  () => '伽师县铁日木乡巴什铁日木村', // a village with its township and county
  () => '巴什铁日木村', // a bare village: counts only with support
  () => '我们村', // no place
  () => '团结村', // a village whose name is an ordinary word, many times over in China
  () => '城关镇', // 88 towns of that name in China, none in Kashgar
]

export interface BenchMessage {
  text: string
  /** The form's place field, on a quarter of the messages that name county and township. */
  place?: string
}

export function benchMessage(n: number): BenchMessage {
  const written = PLACES[n % PLACES.length]!
  // Every place meets every topic: the topic moves on by one each time the places come round.
  const template = TEMPLATES[(Math.floor(n / PLACES.length) + 3 * (n % PLACES.length)) % TEMPLATES.length]!
  const form = FORMS[Math.floor(n / PLACES.length) % FORMS.length]!(written)
  return { text: template.replace('{place}', form), ...(n % 4 === 0 && form === written ? { place: written } : {}) }
}

export const ENGLISH =
  'The street lights on the main road in Jiashi have been out for three weeks. Children walk to school in the dark and last night an old man fell into a ditch near the bazaar. Please send someone to repair them.'
