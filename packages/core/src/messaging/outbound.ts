import type { OutboundWrite, Store } from '../contracts/store.ts'
import type { IdGenerator } from '../ids/index.ts'
import type { Address, Case, CaseMessage, OutboundMessage } from '../model/index.ts'
import type { OfficeDirectory } from '../offices/index.ts'
import { renderTemplate, type MessageTemplates } from '../templates/index.ts'

/** Where an outbound message sits in the conversation (email In-Reply-To/References, a chat reply). */
export interface Thread {
  inReplyTo?: string
  references: string[]
  /** The citizen's latest subject, for channels with subjects (an email answer is `Re:` it). */
  subject?: string
}

/**
 * What everything that writes to a citizen or an office shares: templates rendered in the case's
 * language, and the message and outbox rows of something to send. The pipeline, the case actions,
 * the lifecycle and cluster notices all build their outbound messages here.
 *
 * @example
 * const write = messaging.outbound(kase, 'notice', messaging.render('resolved', kase), 'system', now, await messaging.threadOf(kase), 'resolved')
 * await store.applyCaseChange({ caseId: kase.id, at: now, outbound: [write] })
 */
export interface Messaging {
  /** The citizen's status page for a tracking code. */
  statusUrl(trackingCode: string): string
  /** Render a template in the case's language. */
  render(kind: keyof MessageTemplates, kase: Case, values?: Record<string, string>): string
  /**
   * Build the message row and outbox row for something the citizen must receive. `template` names the
   * template the text was rendered from: a channel that may send only pre-approved templates (Chinese
   * SMS) picks its own by it.
   */
  outbound(kase: Case, kind: OutboundMessage['kind'], text: string, author: string, at: number, thread?: Thread, template?: keyof MessageTemplates): OutboundWrite
  /**
   * A message to anyone on any channel, on a case's record or (`caseId` '') on none: a status answer
   * goes to whoever asked, where they asked, and belongs to the case only when they are its citizen.
   */
  outboundTo(
    recipient: { to: Address; language: string; caseId?: string },
    kase: Case | undefined,
    kind: OutboundMessage['kind'],
    text: string,
    author: string,
    at: number,
    thread?: Thread,
    template?: keyof MessageTemplates,
  ): OutboundWrite
  /** The provider ids a reply on this case answers and refers to, so it threads on the citizen's side. */
  threadOf(kase: Case): Promise<Thread>
}

export interface MessagingOptions {
  store: Pick<Store, 'listMessages'>
  offices: OfficeDirectory
  templates: Record<string, MessageTemplates>
  /** Language used when the case's own has no templates. */
  locale: string
  publicUrl: string
  ids: IdGenerator
}

/** Email clients and servers cap References; the newest ids matter most. */
const MAX_REFERENCES = 20

export function createMessaging(options: MessagingOptions): Messaging {
  const { store, offices, ids } = options
  const statusUrl = (code: string) => `${options.publicUrl.replace(/\/$/, '')}/status/${code}`

  const render: Messaging['render'] = (kind, kase, values = {}) => {
    const t = options.templates[kase.language] ?? options.templates[options.locale] ?? Object.values(options.templates)[0]!
    const office = offices.get(kase.officeId)
    const officeName = (kase.language.startsWith('zh') ? office?.name : office?.names[kase.language.split('-')[0]!]) ?? office?.name ?? ''
    return renderTemplate(t[kind], { trackingCode: kase.trackingCode, officeName, statusUrl: statusUrl(kase.trackingCode), ...values })
  }

  const outbound: Messaging['outbound'] = (kase, kind, text, author, at, thread, template) =>
    outboundTo({ to: kase.citizen, language: kase.language }, kase, kind, text, author, at, thread, template)

  const outboundTo: Messaging['outboundTo'] = (recipient, kase, kind, text, author, at, thread, template) => {
    const messageId = ids()
    const outboxId = ids()
    const office = kase ? offices.get(kase.officeId) : undefined
    const caseId = recipient.caseId ?? kase?.id ?? ''
    const payload: OutboundMessage = {
      id: messageId,
      caseId,
      channelId: recipient.to.channelId,
      to: recipient.to,
      kind,
      text,
      trackingCode: kase?.trackingCode ?? '',
      statusUrl: kase ? statusUrl(kase.trackingCode) : `${options.publicUrl.replace(/\/$/, '')}/status`,
      language: recipient.language,
      ...(template ? { template } : {}),
      ...(thread?.inReplyTo ? { inReplyTo: thread.inReplyTo } : {}),
      ...(thread?.subject ? { subject: thread.subject } : {}),
      ...(thread?.references.length ? { references: thread.references.slice(-MAX_REFERENCES) } : {}),
      ...(office ? { office: { id: office.id, name: office.name, ...(office.contact.email ? { email: office.contact.email } : {}) } } : {}),
    }
    const message: CaseMessage = {
      id: messageId,
      caseId,
      direction: 'out',
      channelId: recipient.to.channelId,
      externalId: null,
      author,
      subject: null,
      text,
      attachments: [],
      deliveryStatus: 'pending',
      createdAt: at,
    }
    return {
      message,
      outbox: {
        id: outboxId,
        messageId,
        caseId,
        channelId: recipient.to.channelId,
        status: 'pending',
        attempts: 0,
        nextAttemptAt: at,
        lastError: null,
        providerId: null,
        idempotencyKey: `intake-${outboxId}`,
        payload,
        createdAt: at,
        updatedAt: at,
      },
    }
  }

  const threadOf: Messaging['threadOf'] = async (kase) => {
    const onChannel = (await store.listMessages(kase.id)).filter((m) => m.channelId === kase.channelId && m.externalId)
    const inbound = onChannel.filter((m) => m.direction === 'in')
    const subject = [...inbound].reverse().find((m) => m.subject)?.subject ?? undefined
    return { inReplyTo: inbound.at(-1)?.externalId ?? undefined, references: onChannel.map((m) => m.externalId!), ...(subject ? { subject } : {}) }
  }

  return { statusUrl, render, outbound, outboundTo, threadOf }
}
