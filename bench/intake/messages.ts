import { signRequest } from '@intake/channels/api'

/** Places of the county-hotline demo (examples/county-hotline/offices.yaml), county + township. */
export const PLACES = [
  '伽师县巴仁镇',
  '伽师县西克尔库勒镇',
  '伽师县铁日木乡',
  '疏勒县疏勒镇',
  '疏勒县巴仁乡',
  '莎车县莎车镇',
  '莎车县荒地镇',
  '喀什市荒地乡',
  '喀什市东湖街道',
] as const

/**
 * What citizens write to a 12345 hotline, 100–200 characters once the place is filled in. The topics
 * hit the demo's keyword rules (wages, roads, pollution, housing, medicine, schools, welfare) and one
 * matches none, so for it the chain goes on to the jurisdiction strategy.
 */
const TEMPLATES: readonly string[] = [
  '您好，我是在{place}一个建筑工地干活的农民工，去年九月到今年一月一共干了四个多月，老板到现在还拖欠我们十二个人的工资，一共大概十八万元。我们找过包工头好几次，他一直说甲方没给钱，现在电话也不接了。马上要开学了，孩子的学费都交不上，请政府帮我们讨个说法。',
  '{place}往村委会方向的那条主路最近坑洼特别多，最大的坑有半米宽，下雨以后积满了水根本看不出来。前天晚上一个骑电动车的老人摔倒了，腿受了伤。路灯也坏了好几盏，晚上漆黑一片，学生放学都要走这条路。希望有关部门尽快派人来修一修，谢谢。',
  '我家住在{place}，附近有一个小加工厂每天晚上十点以后开始排污，沟里的水都变成黑色的，臭味很大，窗户都不敢开。家里老人和孩子最近老是咳嗽。我们向厂里反映过，他们说有手续，但是排污一直没有停。请环保部门来现场查一查，看看是不是违法排放。',
  '我是{place}的居民，住的是单位分的老房子，今年开春以来楼顶一直漏水，卧室墙皮大面积脱落，电线也泡了水，很不安全。找过物业三次，物业说要等维修基金审批，到现在两个月了还是没人来管。家里有八十多岁的老人，请帮忙督促一下尽快维修。',
  '我父亲在{place}，患有高血压和糖尿病，每个月要去乡卫生院拿药。这次去的时候说药品断货了，让我们去县里医院买，可是老人行动不便，家里也没有车。现在药快吃完了，只剩下三天的量，请问能不能帮忙协调一下，尽快把药配送到卫生院。',
  '孩子今年七岁，户口在{place}，我们全家去年从外地搬回来。到学校报名入学的时候，学校说片区名额已满，让我们去十几公里外的另一所学校，每天接送很困难。我们有房产证和居住证明，请问入学的政策到底是怎么规定的，能不能帮我们问一下。',
  '我母亲今年七十三岁，住在{place}，以前一直领低保和养老金，从上个月开始低保突然停发了，村里说是系统复核没通过，但是没有人告诉我们是什么原因，也不知道要补交什么材料。老人一个人生活，没有别的收入来源，希望能尽快查明原因，恢复救助。',
  '想反映一个情况：{place}集市旁边那块空地最近被人圈起来了，说是要建停车场，但是一直没有看到任何公示。附近的商户和居民都不清楚是谁在建、有没有审批，施工车辆每天早上六点就进出，尘土很大。请问这个项目是哪个部门批准的，能否公开相关信息，谢谢答复。',
]

/** One api-channel message of a run: the body is unique by `id` and by sender (each opens a case). */
export function messageBody(run: string, n: number): string {
  const place = PLACES[n % PLACES.length]!
  // Every place meets every topic: the topic moves on by one each time the places come round.
  const text = TEMPLATES[(Math.floor(n / PLACES.length) + 3 * (n % PLACES.length)) % TEMPLATES.length]!.replace('{place}', place)
  // Half the messages also name the place in its own field, half leave it to the text (the gazetteer).
  return JSON.stringify({ id: `${run}-${n}`, from: { id: `citizen-${run}-${n}` }, text, ...(n % 2 === 0 ? { place } : {}) })
}

/** Headers for one request: JSON, plus a signature over the body made now (the channel refuses stale ones). */
export function signedHeaders(secret: string, body: string): Record<string, string> {
  return { 'content-type': 'application/json', ...signRequest(secret, body) }
}
