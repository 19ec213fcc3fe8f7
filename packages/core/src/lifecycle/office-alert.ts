import type { OutboundWrite } from '../contracts/store.ts'
import type { Case, CaseEventInput, Office } from '../model/index.ts'
import type { MessageTemplates } from '../templates/index.ts'
import type { LifecycleContext } from './context.ts'

/**
 * A message to an office about a case (a reminder, an escalation, a supervision note), on the
 * configured alert channel at the office's `contact.alert` address — or the nearest office above it
 * that has one — through the outbox, with an `alerted` event. Nothing when no alert channel is
 * configured or nobody up the tree has an address.
 */
export function officeAlert(
  ctx: LifecycleContext,
  kase: Case,
  officeId: string,
  template: keyof MessageTemplates,
  values: Record<string, string>,
  at: number,
): { outbound: OutboundWrite[]; events: CaseEventInput[]; sentTo: Record<string, string> } {
  const channel = ctx.alertChannel
  const contact: Office | undefined = ctx.offices.lineage(officeId).find((o) => o.contact.alert)
  if (!channel || !contact) return { outbound: [], events: [], sentTo: {} }
  const write = ctx.messaging.outbound(kase, 'alert', ctx.messaging.render(template, kase, values), 'system', at, undefined, template)
  const to = { channelId: channel, id: contact.contact.alert! }
  return {
    outbound: [
      {
        message: { ...write.message, channelId: channel },
        outbox: { ...write.outbox, channelId: channel, payload: { ...write.outbox.payload, channelId: channel, to } },
      },
    ],
    events: [{ caseId: kase.id, at, type: 'alerted', actor: 'system', public: false, data: { officeId: contact.id, channelId: channel, to: to.id, about: template } }],
    /** The same, for a caller that records it on its own event instead of a separate `alerted` (timers: one row less each). */
    sentTo: { alertOfficeId: contact.id, alertChannelId: channel, alertTo: to.id },
  }
}

// Building an Intl.DateTimeFormat costs ~100 µs; a burst of reminders formats thousands of deadlines.
const formats = new Map<string, Intl.DateTimeFormat>()

/** The deadline as the case's citizen or office reads it, in the deployment's time zone. */
export function showTime(at: number | null, kase: Case, timeZone: string): string {
  if (at === null) return '—'
  const lang = kase.language.startsWith('zh') ? 'zh-CN' : 'en'
  const key = `${lang}|${timeZone}`
  let format = formats.get(key)
  if (!format) formats.set(key, (format = new Intl.DateTimeFormat(lang, { timeZone, dateStyle: 'medium', timeStyle: 'short' })))
  return format.format(new Date(at))
}
