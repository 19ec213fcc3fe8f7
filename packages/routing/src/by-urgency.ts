import { z } from 'zod'
import { Urgency, type RoutingStrategy } from '@intake/core'
import { AhoCorasick } from './aho-corasick.ts'
import { RoutingConfigError } from './errors.ts'
import { containsHan, indexOfTerm, normalizeForMatching } from './text-match.ts'

/**
 * One kind of urgency a message can show, and the words that show it.
 *
 * @example
 * { name: 'risk of collective action', together: [['欠薪', '讨薪'], ['上访', '堵路']] }
 */
export const UrgencySignal = z
  .object({
    /** Says why, in the reason: "danger to life or safety". */
    name: z.string().trim().min(1),
    /** Any one of these words shows it. Chinese words match as substrings, others as whole words. */
    words: z.array(z.string().trim().min(1)).default([]),
    /** Or a word from each of these lists, anywhere in the message (欠薪 … 上访). */
    together: z.array(z.array(z.string().trim().min(1)).min(1)).min(2).optional(),
    /**
     * Phrases that contain a word but mean something else ("fire hydrant", "fire escape",
     * 火灾隐患 — a hazard to be inspected, not a fire): blanked out before the words are looked for.
     */
    except: z.array(z.string().trim().min(1)).default([]),
    urgency: Urgency.default('urgent'),
  })
  .strict()
  .refine((s) => s.words.length > 0 || s.together !== undefined, { message: 'a signal needs words or together' })
export type UrgencySignal = z.infer<typeof UrgencySignal>
export type UrgencySignalInput = z.input<typeof UrgencySignal>

/**
 * The signals a 12345 hotline treats as urgent (紧急件): a danger to someone's life or safety, a
 * patient running out of medicine, and unpaid wages that may turn into a collective protest (the
 * "讨薪 + 上访/堵路" cases every hotline escalates at once).
 */
export const DEFAULT_URGENCY_SIGNALS: readonly UrgencySignalInput[] = [
  {
    name: 'danger to life or safety',
    words: [
      '火灾', '着火', '起火', '失火', '煤气泄漏', '燃气泄漏', '天然气泄漏', '漏气', '煤气味', '有人受伤', '砸伤',
      '触电', '电线掉', '塌方', '坍塌', '倒塌', '要塌', '溺水', '掉进井', '掉进河', '掉进水', '被困', '爆炸', '中毒', '一氧化碳', '昏迷', '晕倒',
      '生命危险', '急救', '快不行了', '轻生', '自杀', '跳楼', '持刀', '家暴', '打伤',
      'fire', 'on fire', 'gas leak', 'smell gas', 'smells of gas', 'injured', 'bleeding', 'collapsed', 'collapsing',
      'electrocuted', 'live wire', 'downed power line', 'trapped', 'drowning', 'explosion', 'carbon monoxide',
      'unconscious', 'not breathing', 'life-threatening', 'suicide', 'overdose', 'stabbed',
    ],
    except: [
      '火灾隐患', '消防通道', '消防栓', 'fire hydrant', 'fire escape', 'fire escapes', 'fire station', 'fire department',
      'fire dept', 'fire lane', 'fire inspection', 'ceasefire',
    ],
  },
  {
    name: 'medicine running out',
    words: [
      '药快吃完', '药快没了', '药吃完了', '药用完', '没有药了', '没药了', '断药', '停药', '买不到药', '胰岛素用完', '胰岛素快没',
      'out of medicine', 'out of medication', 'running out of medicine', 'running out of medication', 'ran out of insulin',
      'running out of insulin', 'out of insulin',
    ],
  },
  {
    name: 'risk of collective action',
    words: ['集体讨薪', '集体上访', '群体性', '堵路讨薪'],
    together: [
      ['欠薪', '拖欠工资', '讨薪', '工资', '工钱', '血汗钱', '欠款不给', 'unpaid wages', 'wages', 'back pay', 'salary'],
      [
        '上访', '集体', '堵路', '堵门', '拉横幅', '聚集', '围堵', '静坐', '罢工', '闹事', '跳楼', '去北京', '去乌鲁木齐',
        '几十个', '几十号', '上百', '一起去', 'protest', 'blockade', 'block the road', 'strike', 'sit-in', 'all of us',
      ],
    ],
  },
]

export interface ByUrgencyOptions {
  /** Replace the default signals (DEFAULT_URGENCY_SIGNALS); spread them to add to them. */
  signals?: readonly UrgencySignalInput[]
  /** Default 0.85: a word is strong evidence, but the hotline operator still reads the message. */
  confidence?: number
}

interface CompiledSignal {
  signal: UrgencySignal
  words: { word: string; parts: string[] }[]
  together?: { word: string; parts: string[] }[][]
  except: string[]
}

function compile(word: string) {
  const normalized = normalizeForMatching(word).trim()
  // As in keyword rules: a space inside a Chinese word means "and"; in Latin it is part of a phrase.
  return { word, parts: containsHan(normalized) ? normalized.split(' ') : [normalized] }
}

const Options = z.object({
  signals: z.array(UrgencySignal).min(1, 'at least one signal is needed').optional(),
  confidence: z.number().min(0).max(1).optional(),
})

/**
 * Marks a message urgent when it shows danger to life or safety (火灾, 燃气泄漏, 有人受伤, "gas
 * leak"), medicine running out (药快吃完了, 断药), or unpaid wages with a risk of collective action
 * (欠薪 with 上访, 堵路, 集体…). It decides no office: it returns office `''` with urgency 'urgent'
 * and the reason, so the routing chain passes the urgency on, the strategies after it place the case,
 * and the case gets the urgent deadline. Put it early in the chain.
 *
 * @example
 * routing: [byTrackingCode(), byUrgency(), byKeywords({ rules }), byJurisdiction(), toIntakeDesk()]
 * // "danger to life or safety: "燃气泄漏", "有人受伤" → urgent"
 */
export function byUrgency({ signals = DEFAULT_URGENCY_SIGNALS, confidence = 0.85 }: ByUrgencyOptions = {}): RoutingStrategy {
  const parsed = Options.safeParse({ signals, confidence })
  if (!parsed.success) throw new RoutingConfigError('by-urgency', `invalid options:\n${z.prettifyError(parsed.error)}`)
  const compiled: CompiledSignal[] = parsed.data.signals!.map((signal) => ({
    signal,
    words: signal.words.map(compile),
    together: signal.together?.map((group) => group.map(compile)),
    except: signal.except.map((e) => normalizeForMatching(e).trim()),
  }))
  const occurs = (text: string, w: { parts: string[] }) => w.parts.every((p) => indexOfTerm(text, p) !== -1)

  // Most messages hold none of the words: one pass of an automaton over every part and exception
  // says which occur at all (as bare substrings), and only words made of those are looked for with
  // their word boundaries — rather than a hundred searches of the whole text per message.
  const terms = [...new Set(compiled.flatMap((e) => [...e.words, ...(e.together ?? []).flat()].flatMap((w) => w.parts).concat(e.except)))].filter((t) => t.length > 0)
  const automaton = AhoCorasick.of(terms)
  const present = (text: string): Set<string> => {
    const seen = new Set<string>()
    automaton.scan(text, (term) => seen.add(terms[term]!))
    return seen
  }

  return async function byUrgency(draft) {
    const full = normalizeForMatching([draft.subject ?? '', draft.text].join('\n'))
    const inFull = present(full)
    const found: { signal: UrgencySignal; words: string[] }[] = []
    for (const entry of compiled) {
      let text = full
      // Blanking an exception out can join what was around it: then every word is looked for again.
      let blanked = false
      for (const phrase of entry.except) {
        if (!inFull.has(phrase)) continue
        text = text.split(phrase).join(' ')
        blanked = true
      }
      const mayOccur = (w: { parts: string[] }) => blanked || w.parts.every((p) => inFull.has(p))
      const words = entry.words.filter((w) => mayOccur(w) && occurs(text, w)).map((w) => w.word)
      if (words.length === 0 && entry.together) {
        const hits = entry.together.map((group) => group.find((w) => mayOccur(w) && occurs(text, w))?.word)
        if (hits.every((h) => h !== undefined)) words.push(hits.join(' + '))
      }
      if (words.length > 0) found.push({ signal: entry.signal, words })
    }
    if (found.length === 0) return undefined
    // The most pressing signal sets the urgency (urgent before complex before normal).
    const order: Urgency[] = ['urgent', 'complex', 'normal']
    found.sort((a, b) => order.indexOf(a.signal.urgency) - order.indexOf(b.signal.urgency))
    const urgency = found[0]!.signal.urgency
    const reason = found.map((f) => `${f.signal.name}: ${f.words.map((w) => `"${w}"`).join(', ')}`).join('; ')
    return { officeId: '', strategy: 'urgency', reason: `${reason} → ${urgency}`, confidence: parsed.data.confidence!, urgency }
  }
}
