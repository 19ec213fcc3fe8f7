import { characterCount, normalizeForMatching } from './text-match.ts'

/**
 * How people write place names: the official name, a short form without the administrative suffix
 * (伽师县 → 伽师, 米东区 → 米东), and for autonomous areas the name without the people's name
 * (塔什库尔干塔吉克自治县 → 塔什库尔干, also written 塔什库尔干县).
 */

/**
 * Administrative suffixes dropped to get the short form people write (伽师县 → 伽师, 巴仁镇 → 巴仁).
 * The longest matching suffix is dropped, so 喀什地区 gives 喀什 and not 喀什地.
 */
export const ADMINISTRATIVE_SUFFIXES: readonly string[] = [
  '特别行政区', '自治区', '自治州', '自治县', '自治旗', '地区', '街道', '社区', '嘎查', '苏木',
  '省', '市', '州', '盟', '县', '区', '旗', '镇', '乡', '村',
  ' prefecture', ' county', ' district', ' subdistrict', ' township', ' town', ' city', ' village',
]

/** Suffixes of autonomous areas, and the ordinary suffix people write instead (伊犁哈萨克自治州 → 伊犁州). */
const AUTONOMOUS_SUFFIXES: Readonly<Record<string, string>> = { 自治区: '', 自治州: '州', 自治县: '县', 自治旗: '旗' }
/** Suffixes after which a 民族乡 or 回族区 may name its people (孜热甫夏提塔吉克族乡, 管城回族区). */
const ETHNIC_TOWNSHIP_SUFFIXES = new Set(['乡', '镇', '区', '苏木', '街道'])

/**
 * The 55 minority peoples as written in place names, longest first. In an autonomous area's name
 * they may stand without 族 (塔什库尔干塔吉克自治县, 伊犁哈萨克自治州); a one-character name is
 * always written with 族 (昌吉回族自治州), so it is only stripped with it.
 */
const PEOPLES: readonly string[] = [
  '柯尔克孜', '乌孜别克', '维吾尔', '哈萨克', '塔吉克', '鄂伦春', '鄂温克', '达斡尔', '俄罗斯', '塔塔尔',
  '蒙古', '朝鲜', '土家', '布依', '哈尼', '傈僳', '东乡', '仡佬', '拉祜', '纳西', '仫佬', '锡伯', '景颇', '撒拉',
  '布朗', '毛南', '普米', '阿昌', '基诺', '德昂', '保安', '裕固', '门巴', '独龙', '赫哲', '高山', '珞巴',
  '壮', '回', '满', '苗', '彝', '藏', '侗', '瑶', '白', '黎', '傣', '畲', '佤', '水', '羌', '土', '怒', '京',
].slice().sort((a, b) => b.length - a.length)
const GROUP_WORDS: readonly string[] = ['少数民族', '民族', '各族']

/**
 * Short forms that are also ordinary words, dropped by default from place lists (chinaDivisions):
 * thousands of villages are called 和平, 团结 or 胜利, and districts are called 合作, 资源 or 平安,
 * words a citizen writes without meaning a place. The full names (和平村, 合作市) still count.
 * Pass `commonWords` to replace the list (or extend it: `[...COMMON_WORDS, '荒地']`).
 */
export const COMMON_WORDS: readonly string[] = [
  // Slogans and virtues that name thousands of villages.
  '和平', '团结', '幸福', '胜利', '光明', '太平', '向阳', '红旗', '红星', '前进', '东风', '新民', '兴隆', '新华',
  '新兴', '新城', '新建', '新村', '新区', '新生', '联合', '联盟', '中心', '阳光', '平安', '民主', '先锋', '建设',
  '振兴', '复兴', '曙光', '友谊', '解放', '利民', '富民', '惠民', '爱民', '为民', '同心', '黎明', '五一', '八一',
  '二七', '东方', '东方红', '立新', '跃进', '富强', '文化', '安乐', '康乐', '永乐', '锦绣', '育才', '保安', '繁荣',
  '祥和', '光辉', '明珠', '长青', '星光', '兴旺', '共和', '明星', '吉祥', '学府', '太阳', '建国', '工农', '和谐',
  '长寿', '安居', '安定', '合作', '资源', '港口', '平原', '民权', '宏伟', '建华', '太和', '永和', '仁和', '和顺',
  '中原', '江南', '团结路', '胜利路', '解放路', '人民', '人民路',
  // Parts of a town, street and building words.
  '街道', '社区', '广场', '花园', '公园', '果园', '市场', '车站', '火车站', '医院', '学校', '中学', '小学', '政府',
  '机关', '工业', '开发', '高新', '经开', '园区', '农场', '林场', '牧场', '市中', '市南', '市北', '城关', '城中', '城东',
  '城西', '城南', '城北', '城区', '南城', '北城', '东街', '西街', '南街', '北街', '新街', '东门', '西门', '南门',
  '北门', '东关', '西关', '南关', '北关', '桥头', '大桥', '新桥', '站前', '滨河', '滨江', '沿河', '沿江', '东南',
]

export interface NameForms {
  /** Other full names (with a suffix) people write: 塔什库尔干县 for 塔什库尔干塔吉克自治县. */
  informal: string[]
  /** The name without its suffix (and people's name), at least 2 characters, else undefined. */
  short: string | undefined
}

/** Suffixes prepared for `nameForms`: normalised, distinct, longest first. */
export function prepareSuffixes(suffixes: readonly string[]): string[] {
  return [...new Set(suffixes.map((s) => normalizeForMatching(s)))].sort((a, b) => b.length - a.length)
}

function stripPeoples(rest: string, withoutZu: boolean): string {
  let current = rest
  for (let changed = true; changed; ) {
    changed = false
    for (const word of GROUP_WORDS) {
      if (current.endsWith(word) && characterCount(current) - word.length >= 2) {
        current = current.slice(0, -word.length)
        changed = true
      }
    }
    for (const people of PEOPLES) {
      const written = current.endsWith(`${people}族`) ? `${people}族` : withoutZu && people.length >= 2 && current.endsWith(people) ? people : undefined
      if (written && characterCount(current) - written.length >= 2) {
        current = current.slice(0, -written.length)
        changed = true
        break
      }
    }
  }
  return current
}

/** The forms of a normalised name, given suffixes from `prepareSuffixes`. */
/**
 * Development zones and new areas, and how people write them: 长春经济技术开发区 is 长春经开区 or
 * 长春开发区, 石家庄高新技术产业开发区 石家庄高新区. Their informal names are full names (they
 * count as the zone); they have no short form (石家庄高新技术产业开发 is nobody's word, and 经开 or
 * 高新 alone would match every zone and 经开社区).
 */
const ZONE_FORMS: readonly [official: string, written: readonly string[]][] = [
  ['高新技术产业开发区', ['高新区', '高新技术开发区', '高新开发区']],
  ['高新技术开发区', ['高新区']],
  ['经济技术开发区', ['经开区', '经济开发区', '开发区']],
  ['经济开发区', ['经开区', '开发区']],
  ['工业园区', ['工业园']],
  ['新区', []],
]

function zoneForms(name: string): NameForms | undefined {
  for (const [official, written] of ZONE_FORMS) {
    if (!name.endsWith(official)) continue
    const base = name.slice(0, name.length - official.length)
    // 秦皇岛市经济技术开发区 is also written 秦皇岛经开区.
    const bases = [...new Set([base, base.replace(/[省市县区]$/, '')])].filter((b) => characterCount(b) >= 2)
    const informal = [...new Set(bases.flatMap((b) => [b + official, ...written.map((w) => b + w)]))].filter((f) => f !== name)
    return { informal, short: undefined }
  }
  return undefined
}

export function nameForms(name: string, suffixes: readonly string[]): NameForms {
  const zone = zoneForms(name)
  if (zone) return zone
  for (const suffix of suffixes) {
    if (!name.endsWith(suffix)) continue
    let rest = name.slice(0, name.length - suffix.length).trim()
    const informal: string[] = []
    const autonomous = AUTONOMOUS_SUFFIXES[suffix]
    // A 民族乡 or 回族区 always writes its people with 族; an autonomous area may not (塔吉克自治县).
    if (autonomous !== undefined || (ETHNIC_TOWNSHIP_SUFFIXES.has(suffix) && rest.endsWith('族'))) {
      const stripped = stripPeoples(rest, autonomous !== undefined)
      if (stripped !== rest) {
        rest = stripped
        if (autonomous) informal.push(rest + autonomous)
        else if (autonomous === undefined) informal.push(rest + suffix)
      }
    }
    return { informal, short: characterCount(rest) >= 2 ? rest : undefined }
  }
  return { informal: [], short: undefined }
}
