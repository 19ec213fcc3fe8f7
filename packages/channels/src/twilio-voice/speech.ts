import twilio from 'twilio'
import type VoiceResponse from 'twilio/lib/twiml/VoiceResponse'

/**
 * What callers hear, built with the SDK's `twiml.VoiceResponse` (https://www.twilio.com/docs/voice/twiml).
 * Text written for the eye is rewritten for the ear: links are dropped (nobody can follow a URL on
 * the phone) and the tracking code is spelled one character at a time, then said again at the end,
 * so a caller can write it down.
 */

export type LineLanguage = 'zh-CN' | 'en-US'

export interface SayOptions {
  /** A Twilio voice: `Polly.Zhiyu`, `Google.cmn-CN-Standard-A`, `Polly.Joanna`, `man`, `woman`… */
  voice: NonNullable<VoiceResponse.SayAttributes['voice']>
  /** The `<Say language>` attribute; it must be one the voice speaks. */
  language: NonNullable<VoiceResponse.SayAttributes['language']>
}

/**
 * Defaults per line language. Twilio's text-to-speech table (https://www.twilio.com/docs/voice/twiml/say/text-speech)
 * lists Amazon Polly's Mandarin voice Zhiyu under the locale `cmn-CN` — the `zh-CN` locale belongs
 * to the legacy `alice` voice — and Joanna under `en-US`.
 */
export const DEFAULT_SAY: Record<LineLanguage, SayOptions> = {
  'zh-CN': { voice: 'Polly.Zhiyu', language: 'cmn-CN' },
  'en-US': { voice: 'Polly.Joanna', language: 'en-US' },
}

export const DEFAULT_WORDS: Record<LineLanguage, { greeting: (maxLength: number) => string; nothingHeard: string; codeAgain: string; goodbye: string; truncated: string }> = {
  'zh-CN': {
    greeting: (s) => `您好，这里是政务服务便民热线。请在提示音后说出您的诉求，包括地点和事情经过，最长${minutes(s, 'zh')}，说完请按井号键。`,
    nothingHeard: '没有听到您的留言。请再次来电。再见。',
    codeAgain: '再说一遍，您的编号是：',
    goodbye: '感谢来电，再见。',
    truncated: '答复较长，完整内容请查看进度页面。',
  },
  'en-US': {
    greeting: (s) =>
      `Hello, you have reached the public service hotline. After the tone, please describe your request, including where it is and what happened. You have up to ${minutes(s, 'en')}. Press the pound key when you are done.`,
    nothingHeard: 'We did not hear a message. Please call again. Goodbye.',
    codeAgain: 'Once more, your tracking code is: ',
    goodbye: 'Thank you for calling. Goodbye.',
    truncated: 'The reply is longer; the full text is on your case status page.',
  },
}

function minutes(seconds: number, lang: 'zh' | 'en'): string {
  if (seconds < 60 || seconds % 60) return lang === 'zh' ? `${seconds}秒` : `${seconds} seconds`
  const m = seconds / 60
  return lang === 'zh' ? `${m}分钟` : `${m} minute${m > 1 ? 's' : ''}`
}

/** "K7F3-9Q28" → "K, 7, F, 3. 9, Q, 2, 8": one character at a time, a pause between the halves. */
export function spellCode(code: string, language: LineLanguage): string {
  const [comma, stop] = language === 'zh-CN' ? ['，', '。'] : [', ', '. ']
  return code
    .toUpperCase()
    .split('-')
    .map((group) => Array.from(group).join(comma))
    .join(stop)
}

/**
 * Text for the ear: links go, with the label that introduced them ("Status: https://…", "查询进度：https://…"),
 * and every tracking code is spelled.
 */
export function forSpeech(text: string, trackingCode: string, language: LineLanguage): string {
  const spelled = spellCode(trackingCode, language)
  return text
    .replace(/\s*[^\s.,;!?。，；！？:：]{0,20}[:：]\s*https?:\/\/\S+/gu, '')
    .replace(/https?:\/\/\S+/g, '')
    .split(trackingCode)
    .join(spelled)
    .replace(/\s+/g, ' ')
    .trim()
}

const say = (response: VoiceResponse, options: SayOptions, text: string, loop?: number) =>
  response.say({ voice: options.voice, language: options.language, ...(loop ? { loop } : {}) }, text)

export interface GreetingOptions {
  say: SayOptions
  greeting: string
  nothingHeard: string
  maxLength: number
  action: string
  recordingStatusCallback: string
}

/**
 * The answer to an incoming call: the greeting, then `<Record>` (https://www.twilio.com/docs/voice/twiml/record).
 * Twilio posts the recording to `action` when the caller presses # or `maxLength` runs out; if
 * nothing was recorded it does not call `action` and goes on to the next verb — hence the words
 * after `<Record>`.
 */
export function greetingTwiml(o: GreetingOptions): string {
  const response = new twilio.twiml.VoiceResponse()
  say(response, o.say, o.greeting)
  response.record({
    action: o.action,
    method: 'POST',
    maxLength: o.maxLength,
    finishOnKey: '#',
    playBeep: true,
    // Silence at either end is cut, so RecordingDuration is the caller's speech, not their pauses.
    trim: 'trim-silence',
    recordingStatusCallback: o.recordingStatusCallback,
    recordingStatusCallbackMethod: 'POST',
    recordingStatusCallbackEvent: ['completed', 'absent'],
  })
  say(response, o.say, o.nothingHeard)
  response.hangup()
  return response.toString()
}

/** The answer to the recording: the acknowledgement with its code spelled, the code once more, goodbye. */
export function acknowledgementTwiml(text: string, trackingCode: string, sayOptions: SayOptions, line: LineLanguage, words = DEFAULT_WORDS[line]): string {
  const response = new twilio.twiml.VoiceResponse()
  say(response, sayOptions, forSpeech(text, trackingCode, line))
  response.pause({ length: 1 })
  say(response, sayOptions, `${words.codeAgain}${spellCode(trackingCode, line)}`)
  say(response, sayOptions, words.goodbye)
  response.hangup()
  return response.toString()
}

export function nothingHeardTwiml(sayOptions: SayOptions, text: string): string {
  const response = new twilio.twiml.VoiceResponse()
  say(response, sayOptions, text)
  response.hangup()
  return response.toString()
}

/**
 * Twilio refuses inline TwiML over 4000 characters (error 32018,
 * https://www.twilio.com/docs/api/errors/32018): a long reply is cut, and says where the rest is.
 */
export const MAX_INLINE_TWIML = 4000

/** A reply spoken on an outbound call: said twice (the first time often starts as the phone reaches the ear). */
export function replyCallTwiml(text: string, trackingCode: string, sayOptions: SayOptions, line: LineLanguage, words = DEFAULT_WORDS[line]): string {
  const build = (spoken: string, cut: boolean) => {
    const response = new twilio.twiml.VoiceResponse()
    response.pause({ length: 1 })
    say(response, sayOptions, cut ? `${spoken}… ${words.truncated}` : spoken, 2)
    say(response, sayOptions, words.goodbye)
    response.hangup()
    return response.toString()
  }
  const spoken = forSpeech(text, trackingCode, line)
  let twiml = build(spoken, false)
  if (twiml.length <= MAX_INLINE_TWIML) return twiml
  const chars = Array.from(spoken)
  // XML escaping can make the TwiML longer than the text: shrink until it fits.
  for (let keep = chars.length - (twiml.length - MAX_INLINE_TWIML) - words.truncated.length - 8; keep > 0; keep -= 50) {
    twiml = build(chars.slice(0, keep).join(''), true)
    if (twiml.length <= MAX_INLINE_TWIML) return twiml
  }
  return build(words.truncated, false)
}
