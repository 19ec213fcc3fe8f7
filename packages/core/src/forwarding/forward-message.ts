import type { OutboundWrite, Store } from '../contracts/store.ts'
import type { Case, ForwardedCase, Office } from '../model/index.ts'
import type { Messaging } from '../messaging/index.ts'

/**
 * The outbox row that hands a case to the other system its office works in (`office.forwardTo`):
 * on the record as a message to that office on the forwarding channel, delivered with retries and
 * dead letters like any reply. Its facts are read when it is sent (`forwardedCase`).
 */
export function forwardWrite(messaging: Pick<Messaging, 'outbound'>, kase: Case, office: Office & { forwardTo: string }, at: number): OutboundWrite {
  const channelId = office.forwardTo
  const write = messaging.outbound({ ...kase, officeId: office.id }, 'forward', `Forwarded to ${office.name} through ${channelId}`, 'system', at)
  const to = { channelId, id: office.id, displayName: office.name }
  return {
    message: { ...write.message, channelId },
    outbox: { ...write.outbox, channelId, payload: { ...write.outbox.payload, channelId, to } },
  }
}

/** The case as the other system needs it, as it stands now; undefined when the case is gone. */
export async function forwardedCase(store: Store, caseId: string): Promise<ForwardedCase | undefined> {
  const kase = await store.getCase(caseId)
  if (!kase) return undefined
  const first = (await store.listMessages(caseId)).find((m) => m.direction === 'in')
  return {
    trackingCode: kase.trackingCode,
    category: kase.category,
    description: first?.text || kase.summary,
    subject: first?.subject ?? null,
    place: kase.place ?? kase.placeName,
    placeCode: kase.placeCode,
    contact: kase.anonymous ? null : kase.contact,
    createdAt: kase.createdAt,
  }
}
