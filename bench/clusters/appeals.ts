/**
 * Labelled appeals for duplicate clusters, written for this benchmark (not copied from any source):
 * 12345-hotline style appeals in Chinese, set in the county-hotline demo's townships, and 311-style
 * reports in English with a point (as a 311 app sends) in a made-up city grid. Each `Issue` is one
 * matter at one place; its `reports` are different citizens describing it in their own words.
 *
 * Issues come in neighbours that make the hard negatives (pairs.ts):
 * - the same place and category, another matter (two different streetlight faults in one town);
 * - the same matter at another place (the same words about a road of the same name elsewhere,
 *   巴仁镇 in 伽师县 vs 巴仁乡 in 疏勒县, 荒地镇 vs 荒地乡).
 *
 * `split: 'held-out'` issues were written before any threshold was chosen and are never used to
 * choose one (run.ts sweeps only `tuning`).
 */
import type { PlaceHint } from '@intake/core'

export interface Issue {
  id: string
  split: 'tuning' | 'held-out'
  lang: 'zh' | 'en'
  category: string
  /** Where the matter is: for English reports the point (and the address as typed); Chinese ones name it in the text. */
  place?: PlaceHint
  reports: Array<string | { text: string; place: PlaceHint }>
}

/** A point about `north` and `east` metres from a corner of the made-up English city. */
const at = (north: number, east: number, address: string): PlaceHint => ({
  text: address,
  lat: 37.77 + north / 111_320,
  lon: -122.43 + east / (111_320 * Math.cos((37.77 * Math.PI) / 180)),
})

export const ISSUES: Issue[] = [
  // ---- Chinese, tuning ----
  {
    id: 'zh-t01', split: 'tuning', lang: 'zh', category: 'streetlights',
    reports: [
      '伽师县巴仁镇幸福路的路灯已经坏了一个星期了，一到晚上整条路漆黑，老人孩子出门很不安全。',
      '巴仁镇幸福路路灯全部不亮，晚上骑电动车差点摔倒，请派人修一下。',
      '反映一下，幸福路（巴仁镇中学往东那段）路灯好多天没亮了，晚上黑乎乎的。',
    ],
  },
  {
    id: 'zh-t02', split: 'tuning', lang: 'zh', category: 'streetlights',
    reports: [
      '巴仁镇团结路靠近农贸市场那边有两根路灯杆被车撞歪了，灯罩掉在地上，存在安全隐患。',
      '团结路市场门口的路灯杆被撞弯了，随时可能倒下来，巴仁镇的请赶紧处理。',
      '伽师县巴仁镇团结路一根路灯杆歪斜严重，电线都露出来了，太危险了。',
    ],
  },
  {
    id: 'zh-t03', split: 'tuning', lang: 'zh', category: 'streetlights',
    reports: [
      '伽师县西克尔库勒镇幸福路路灯坏了好几天，晚上一片漆黑，走路不安全。',
      '西克尔库勒镇幸福路的路灯晚上都不亮，已经一周了。',
      '西克尔库勒镇幸福路一整排路灯不亮，晚上黑咕隆咚的，请尽快修复。',
    ],
  },
  {
    id: 'zh-t04', split: 'tuning', lang: 'zh', category: 'water-supply',
    reports: [
      '伽师县巴仁镇阿克喀什村从昨天早上开始停水，到现在还没来水，也没有任何通知。',
      '阿克喀什村一直没有自来水，已经一天多了，做饭洗衣都成问题，巴仁镇能不能给个说法。',
      '巴仁镇阿克喀什村停水两天了，家里老人孩子喝水都困难，什么时候恢复供水？',
    ],
  },
  {
    id: 'zh-t05', split: 'tuning', lang: 'zh', category: 'water-supply',
    reports: [
      '巴仁镇幸福小区的自来水这几天发黄浑浊，还有一股怪味，不敢喝。',
      '伽师县巴仁镇幸福小区水龙头放出来的水是黄色的，烧开后有沉淀，请检测一下水质。',
      '我们小区（巴仁镇幸福小区）自来水有异味，颜色发黄，担心水质有问题。',
    ],
  },
  {
    id: 'zh-t06', split: 'tuning', lang: 'zh', category: 'roads',
    reports: [
      '疏勒县疏勒镇人民路和文化路交叉口有个大坑，下雨后积水看不见，已经有电动车摔倒了。',
      '疏勒镇人民路文化路路口路面塌了一个大坑，开车经过很危险，请尽快填补。',
      '人民路与文化路交口的坑越来越大了，疏勒镇这边能不能派人修一修路。',
    ],
  },
  {
    id: 'zh-t07', split: 'tuning', lang: 'zh', category: 'roads',
    reports: [
      '疏勒县疏勒镇人民路上一个窨井盖破了一半，晚上看不清，很容易踩空。',
      '疏勒镇人民路中段的井盖碎了，有个大窟窿，行人和车辆都很危险。',
      '人民路邮局门口井盖破损，疏勒镇请赶紧更换，昨天有小孩差点掉下去。',
    ],
  },
  {
    id: 'zh-t08', split: 'tuning', lang: 'zh', category: 'noise',
    reports: [
      '莎车县莎车镇团结小区旁边的工地每天晚上十二点以后还在施工，噪音太大，根本睡不着。',
      '莎车镇团结小区附近工地半夜打桩，吵得孩子没法睡觉，请管一管。',
      '投诉莎车镇团结小区南边工地夜间违规施工，凌晨一两点还在作业。',
    ],
  },
  {
    id: 'zh-t09', split: 'tuning', lang: 'zh', category: 'noise',
    reports: [
      '莎车镇人民广场每天晚上跳广场舞音响开得特别大，一直到十点多，附近居民休息不了。',
      '莎车县莎车镇广场舞音乐太吵了，晚上十点以后还不停，希望规定一下音量和时间。',
      '人民广场的广场舞噪音扰民，莎车镇这边的住户天天被吵，能不能管一下。',
    ],
  },
  {
    id: 'zh-t10', split: 'tuning', lang: 'zh', category: 'sanitation',
    reports: [
      '喀什市东湖街道东湖小区门口的垃圾箱好几天没人清运，垃圾堆满了，臭气熏天。',
      '东湖小区大门口垃圾没人收，已经溢出来了，苍蝇很多，东湖街道请处理。',
      '反映东湖街道东湖小区垃圾清运不及时的问题，门口垃圾堆成山了。',
    ],
  },
  {
    id: 'zh-t11', split: 'tuning', lang: 'zh', category: 'sanitation',
    reports: [
      '东湖街道美食街的商户每天晚上把泔水直接倒在路边，地面油腻，味道很难闻。',
      '喀什市东湖街道美食街有饭店往马路上倒剩饭剩菜和脏水，路面又脏又滑。',
      '东湖美食街商户乱倒泔水，影响环境卫生，东湖街道城管能不能来查一查。',
    ],
  },
  {
    id: 'zh-t12', split: 'tuning', lang: 'zh', category: 'wages',
    reports: [
      '疏勒县巴仁乡安居房项目工地拖欠我们二十多个工人三个月工资，老板一直躲着不见。',
      '巴仁乡安居房工地包工头欠薪，我们干了三个月一分钱没拿到，请劳动部门帮忙讨薪。',
      '我在疏勒县巴仁乡安居房工地干活，老板拖欠工资快三个月了，找了好几次都不给。',
    ],
  },
  {
    id: 'zh-t13', split: 'tuning', lang: 'zh', category: 'wages',
    reports: [
      '伽师县巴仁镇安居房工地拖欠工人工资两个多月，老板说没钱。',
      '巴仁镇的安居工程工地欠我们农民工工资，两个月了，过年回不了家。',
      '伽师县巴仁镇安居房项目拖欠农民工工资，请劳动监察介入。',
    ],
  },

  // ---- English, tuning ----
  {
    id: 'en-t01', split: 'tuning', lang: 'en', category: 'streetlights', place: at(0, 0, 'Elm St & 3rd Ave'),
    reports: [
      'Streetlight out at the corner of Elm St and 3rd Ave. The whole block is pitch dark at night.',
      { text: 'The street light on Elm Street near 3rd Avenue has not been working for a week. Very dark walking home.', place: at(25, 10, 'Elm Street near 3rd') },
      { text: 'Light pole at Elm/3rd is out, it is completely dark at night and feels unsafe.', place: at(-15, 20, 'elm/3rd') },
    ],
  },
  {
    id: 'en-t02', split: 'tuning', lang: 'en', category: 'streetlights', place: at(90, 0, 'Elm St & 4th Ave'),
    reports: [
      'A car hit the light pole on Elm St by 4th Ave and it is leaning over the sidewalk. Wires exposed.',
      { text: 'Damaged street light pole at Elm and 4th, bent after a crash, looks like it could fall.', place: at(100, 15, 'Elm and 4th') },
      { text: 'Leaning lamp post on Elm Street near 4th Avenue after an accident last night, exposed wiring.', place: at(85, -10, 'Elm Street near 4th Avenue') },
    ],
  },
  {
    id: 'en-t03', split: 'tuning', lang: 'en', category: 'streetlights', place: at(1100, -1700, 'Oak St & 9th Ave'),
    reports: [
      'Streetlight out at Oak St and 9th Ave, the block is completely dark at night.',
      { text: 'The street light near Oak Street and 9th Avenue has been out for days.', place: at(1120, -1690, 'Oak Street and 9th Avenue') },
      { text: 'Street lamp not working on Oak/9th, very dark.', place: at(1090, -1710, 'Oak/9th') },
    ],
  },
  {
    id: 'en-t04', split: 'tuning', lang: 'en', category: 'roads', place: at(550, 880, 'Market St & 5th St'),
    reports: [
      'Huge pothole in the right lane of Market St just past 5th St. Cars are swerving to avoid it.',
      { text: 'Deep pothole on Market Street near 5th, I blew a tire on it this morning.', place: at(560, 870, 'Market Street near 5th') },
      { text: 'There is a large hole in the road on Market by 5th Street, it keeps getting bigger after the rain.', place: at(540, 900, 'Market by 5th Street') },
    ],
  },
  {
    id: 'en-t05', split: 'tuning', lang: 'en', category: 'roads', place: at(590, 920, '500 Market St'),
    reports: [
      'The sidewalk in front of 500 Market St is cracked and lifted by tree roots. Trip hazard.',
      { text: 'Broken, uneven sidewalk on Market near 5th, an older lady tripped there yesterday.', place: at(575, 900, 'Market near 5th') },
      { text: 'Raised sidewalk slab outside the bakery on Market St by 5th, people keep tripping.', place: at(600, 930, 'Market St by 5th') },
    ],
  },
  {
    id: 'en-t06', split: 'tuning', lang: 'en', category: 'graffiti', place: at(-550, 440, 'Valencia St library'),
    reports: [
      'Fresh graffiti all over the side wall of the public library on Valencia St.',
      { text: 'Someone spray painted tags on the library building on Valencia Street last night.', place: at(-540, 450, 'Valencia Street library') },
      { text: 'Graffiti on the Valencia St library wall facing the parking lot, please remove.', place: at(-560, 430, 'library, Valencia St') },
    ],
  },
  {
    id: 'en-t07', split: 'tuning', lang: 'en', category: 'graffiti', place: at(-460, 470, 'Valencia St & 18th St'),
    reports: [
      'Bus shelter at Valencia and 18th is covered in graffiti and the glass is scratched.',
      { text: 'Graffiti tags on the bus stop shelter at 18th and Valencia.', place: at(-450, 460, '18th and Valencia') },
      { text: 'The bus shelter on Valencia near 18th St has been tagged again, glass etched too.', place: at(-470, 480, 'Valencia near 18th St') },
    ],
  },
  {
    id: 'en-t08', split: 'tuning', lang: 'en', category: 'dumping', place: at(2220, 1320, 'alley behind 1200 Pine St'),
    reports: [
      'Someone dumped a mattress and an old couch in the alley behind 1200 Pine St.',
      { text: 'Abandoned couch and mattress blocking the alley off Pine Street.', place: at(2230, 1300, 'alley off Pine Street') },
      { text: 'Illegal dumping: a sofa, a mattress and bags of trash in the Pine St alley.', place: at(2210, 1330, 'Pine St alley') },
    ],
  },
  {
    id: 'en-t09', split: 'tuning', lang: 'en', category: 'noise', place: at(-1000, 350, '45 Dolores St'),
    reports: [
      'Loud music from the house at 45 Dolores St every Friday and Saturday until 3am.',
      { text: 'Neighbors at 45 Dolores Street play amplified music late every weekend, we cannot sleep.', place: at(-1000, 350, '45 Dolores Street') },
      { text: 'Ongoing noise complaint: parties with loud bass at 45 Dolores, past 2am again.', place: at(-995, 345, '45 Dolores') },
    ],
  },
  {
    id: 'en-t10', split: 'tuning', lang: 'en', category: 'noise', place: at(-920, 360, 'Dolores St construction site'),
    reports: [
      'Construction crew on Dolores St starts jackhammering at 6am, well before permitted hours.',
      { text: 'Early morning construction noise at the building site on Dolores Street, starting before 7.', place: at(-930, 355, 'Dolores Street building site') },
      { text: 'Jackhammers at the Dolores St construction site at 6 in the morning every weekday.', place: at(-910, 365, 'Dolores St site') },
    ],
  },
  {
    id: 'en-t11', split: 'tuning', lang: 'en', category: 'water', place: at(1220, -2640, 'Geary Blvd & 20th Ave'),
    reports: [
      'Water is gushing up from the street on Geary Blvd at 20th Ave, looks like a broken main.',
      { text: 'Water main break at Geary and 20th, water running down the road for an hour.', place: at(1230, -2630, 'Geary and 20th') },
      { text: 'Big leak in the street at Geary Blvd near 20th Avenue, water bubbling up from the pavement.', place: at(1210, -2650, 'Geary Blvd near 20th Avenue') },
    ],
  },
  {
    id: 'en-t12', split: 'tuning', lang: 'en', category: 'water', place: at(1220, -4400, 'Geary Blvd & 40th Ave'),
    reports: [
      'Water main break at Geary and 40th Ave, water flooding the intersection.',
      { text: 'Water is gushing out of the road at Geary Blvd near 40th Avenue.', place: at(1230, -4390, 'Geary Blvd near 40th Avenue') },
      { text: 'Broken water pipe under Geary at 40th, the street is flooding.', place: at(1210, -4410, 'Geary at 40th') },
    ],
  },

  // ---- Chinese, held out ----
  {
    id: 'zh-h01', split: 'held-out', lang: 'zh', category: 'heating',
    reports: [
      '莎车县荒地镇幸福小区暖气一直不热，家里才十二度，老人冻得受不了。',
      '荒地镇幸福小区供暖温度太低，屋里穿棉衣都冷，请供热公司来看看。',
      '我们荒地镇幸福小区今年暖气根本不热，交了暖气费却挨冻。',
    ],
  },
  {
    id: 'zh-h02', split: 'held-out', lang: 'zh', category: 'heating',
    reports: [
      '莎车县荒地镇中心学校旁边的供热管道破了，热水一直往外冒，路面都结冰了。',
      '荒地镇中心学校门口暖气管网漏水，路上结了一层冰，学生上学很容易滑倒。',
      '荒地镇学校附近供暖管道爆裂漏水，冒着热气，请尽快抢修。',
    ],
  },
  {
    id: 'zh-h03', split: 'held-out', lang: 'zh', category: 'heating',
    reports: [
      '喀什市荒地乡幸福小区暖气不热，室内温度只有十几度。',
      '荒地乡幸福小区供暖不达标，家里冷得很，孩子都感冒了。',
      '荒地乡这边幸福小区暖气温度低，请供热单位尽快处理。',
    ],
  },
  {
    id: 'zh-h04', split: 'held-out', lang: 'zh', category: 'roads',
    reports: [
      '伽师县铁日木乡通往三村的乡道被洪水冲断了一截，车辆过不去，村民出行很困难。',
      '铁日木乡到三村的路被冲毁了，拉棉花的车都过不去，请尽快抢修。',
      '伽师县铁日木乡三村的进村道路塌了一段，摩托车也很难通过。',
    ],
  },
  {
    id: 'zh-h05', split: 'held-out', lang: 'zh', category: 'roads',
    reports: [
      '伽师县铁日木乡主街上的减速带坏了，螺丝钉翘起来，已经扎破好几辆车的轮胎。',
      '铁日木乡政府门口那条街的减速带破损，钉子露在外面，很危险。',
      '铁日木乡主街减速带被压烂了，钉子翘着，过往车辆经常爆胎。',
    ],
  },
  {
    id: 'zh-h06', split: 'held-out', lang: 'zh', category: 'parking',
    reports: [
      '喀什市东湖街道东湖小区门口天天有车乱停，把消防通道都堵死了。',
      '东湖小区大门口车辆乱停乱放，消防车根本进不来，东湖街道请管一管。',
      '东湖街道东湖小区消防通道被私家车占用，存在很大安全隐患。',
    ],
  },

  // ---- English, held out ----
  {
    id: 'en-h01', split: 'held-out', lang: 'en', category: 'trees', place: at(-550, -3300, 'Lincoln Way & 10th Ave'),
    reports: [
      'A large tree fell across Lincoln Way at 10th Ave during the storm and is blocking both lanes.',
      { text: 'Fallen tree blocking Lincoln Way near 10th Avenue, traffic cannot get through.', place: at(-540, -3290, 'Lincoln Way near 10th Avenue') },
      { text: 'Big eucalyptus down on Lincoln Way by 10th, road is blocked.', place: at(-560, -3310, 'Lincoln Way by 10th') },
    ],
  },
  {
    id: 'en-h02', split: 'held-out', lang: 'en', category: 'trees', place: at(-560, -3220, '1020 Lincoln Way'),
    reports: [
      'Dead tree in front of 1020 Lincoln Way is leaning toward the house, worried it will fall.',
      { text: 'The street tree outside 1020 Lincoln Way looks dead and is leaning badly.', place: at(-560, -3220, '1020 Lincoln Way') },
      { text: 'Please inspect the dying tree near 10th Ave on Lincoln Way, it is leaning over the sidewalk.', place: at(-550, -3260, 'Lincoln Way near 10th Ave') },
    ],
  },
  {
    id: 'en-h03', split: 'held-out', lang: 'en', category: 'traffic-signals', place: at(2900, 620, 'Van Ness Ave & Broadway'),
    reports: [
      'Traffic lights at Van Ness and Broadway are completely out, cars treating it as a four-way stop.',
      { text: 'Signal not working at Broadway and Van Ness Ave, all directions dark.', place: at(2905, 615, 'Broadway and Van Ness Ave') },
      { text: 'The traffic signal at Van Ness/Broadway is dark, very dangerous at rush hour.', place: at(2895, 625, 'Van Ness/Broadway') },
    ],
  },
  {
    id: 'en-h04', split: 'held-out', lang: 'en', category: 'traffic-signals', place: at(2915, 640, 'Van Ness Ave & Broadway, NE corner'),
    reports: [
      'The pedestrian crossing button at Van Ness and Broadway does not work, the walk sign never comes on.',
      { text: "Walk signal at Broadway & Van Ness stuck on don't walk, the push button is broken.", place: at(2910, 630, 'Broadway & Van Ness') },
      { text: 'Crosswalk button broken on the northeast corner of Van Ness and Broadway.', place: at(2918, 645, 'NE corner Van Ness and Broadway') },
    ],
  },
  {
    id: 'en-h05', split: 'held-out', lang: 'en', category: 'abandoned-vehicles', place: at(-1670, -880, 'Castro St & 24th St'),
    reports: [
      'A white sedan with no plates has been parked on Castro St near 24th for three weeks.',
      { text: "Abandoned car on Castro Street by 24th, flat tires, no license plates, hasn't moved in weeks.", place: at(-1660, -885, 'Castro Street by 24th') },
      { text: 'Car without plates left on Castro near 24th Street for about a month, windows broken.', place: at(-1680, -870, 'Castro near 24th Street') },
    ],
  },
  {
    id: 'en-h06', split: 'held-out', lang: 'en', category: 'abandoned-vehicles', place: at(-2780, 1760, 'Mission St & 29th St'),
    reports: [
      'A white sedan with no plates has been parked on Mission St near 29th for weeks.',
      { text: 'Abandoned car on Mission Street by 29th, no license plates, flat tires.', place: at(-2770, 1750, 'Mission Street by 29th') },
      { text: 'Car without plates left on Mission near 29th Street for a month.', place: at(-2790, 1770, 'Mission near 29th Street') },
    ],
  },
]

/**
 * Issue pairs whose reports are hard negatives: the same place and category with another matter
 * (`place`), or the same matter at another place (`matter`). Both issues are always in one split.
 */
export const NEIGHBOURS: Array<[string, string, 'place' | 'matter']> = [
  ['zh-t01', 'zh-t02', 'place'],
  ['zh-t01', 'zh-t03', 'matter'],
  ['zh-t04', 'zh-t05', 'place'],
  ['zh-t06', 'zh-t07', 'place'],
  ['zh-t08', 'zh-t09', 'place'],
  ['zh-t10', 'zh-t11', 'place'],
  ['zh-t12', 'zh-t13', 'matter'],
  ['zh-t02', 'zh-t03', 'matter'],
  ['en-t01', 'en-t02', 'place'],
  ['en-t01', 'en-t03', 'matter'],
  ['en-t02', 'en-t03', 'matter'],
  ['en-t04', 'en-t05', 'place'],
  ['en-t06', 'en-t07', 'place'],
  ['en-t09', 'en-t10', 'place'],
  ['en-t11', 'en-t12', 'matter'],
  ['zh-h01', 'zh-h02', 'place'],
  ['zh-h01', 'zh-h03', 'matter'],
  ['zh-h02', 'zh-h03', 'matter'],
  ['zh-h04', 'zh-h05', 'place'],
  ['en-h01', 'en-h02', 'place'],
  ['en-h03', 'en-h04', 'place'],
  ['en-h05', 'en-h06', 'matter'],
]
