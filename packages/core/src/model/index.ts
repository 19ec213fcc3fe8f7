/**
 * The one vocabulary of Intake. Every adapter, strategy and store speaks these types;
 * provider payloads are parsed into them before any logic runs.
 */
import { z } from 'zod'
import { cleanText } from './clean-text.ts'

/** A string from outside, cleaned of NUL, control characters and lone surrogates as it is parsed. */
const text = () => z.string().overwrite(cleanText)

/** Milliseconds since the Unix epoch. Stored as integers everywhere. */
export const Timestamp = z.number().int().nonnegative()

/** Who a message is from or to, on one channel instance. */
export const Address = z.object({
  /** The channel instance id from the config (`web`, `sms`, `tg-village`...). */
  channelId: z.string().min(1),
  /** The provider's id for the person: a phone number, an email address, a chat id. */
  id: text().min(1),
  displayName: text().optional(),
})
export type Address = z.infer<typeof Address>

export const Attachment = z.object({
  id: z.string().optional(),
  filename: text().max(255).optional(),
  contentType: z.string(),
  size: z.number().int().nonnegative(),
  /** Key in the blob store, set once the bytes are stored. */
  blobKey: z.string().optional(),
  sha256: z.string().optional(),
})
export type Attachment = z.infer<typeof Attachment>

/** A contact a citizen gave for replies (web form), separate from the address they wrote from. */
export const Contact = z.object({
  email: z.string().email().optional(),
  phone: text().max(40).optional(),
  name: text().max(200).optional(),
})
export type Contact = z.infer<typeof Contact>

/** Where a message says it is about: free text, a place code, or a point. */
export const PlaceHint = z.object({
  text: text().max(500).optional(),
  code: z.string().max(40).optional(),
  lat: z.number().min(-90).max(90).optional(),
  lon: z.number().min(-180).max(180).optional(),
})
export type PlaceHint = z.infer<typeof PlaceHint>

/** What an adapter hands to the pipeline: one citizen message, already verified and parsed. */
export const InboundMessage = z.object({
  channelId: z.string().min(1),
  /** The provider's message id; (channelId, externalId) is unique, which makes intake idempotent. */
  externalId: text().min(1).max(200),
  from: Address,
  /** The office account or number it was sent to, when the channel has several. */
  to: text().optional(),
  subject: text().max(1000).optional(),
  text: text().max(20_000),
  attachments: z.array(Attachment).max(20).default([]),
  place: PlaceHint.optional(),
  contact: Contact.optional(),
  anonymous: z.boolean().default(false),
  /** Language the citizen chose or wrote in (BCP 47), when known. */
  language: z.string().max(20).optional(),
  /**
   * What the citizen asked for without words, when the provider tells: `status` for a status
   * button (a WeChat menu click); text may then be empty.
   */
  intent: z.enum(['status']).optional(),
  /**
   * The category the citizen chose (an Open311 service_code, a form's list): routing starts from it
   * (`CaseDraft.category`) instead of reading one from the words.
   */
  category: z.string().max(100).optional(),
  /**
   * The message opens a case of its own: never read as a status query or a rating, never joined to
   * an earlier case of the same sender (each Open311 service request is one case).
   */
  standalone: z.boolean().default(false),
  /** Provider thread references (email Message-ID chain, a replied-to message id). */
  threadRefs: z.array(text()).default([]),
  receivedAt: Timestamp,
  /** The raw provider payload, kept in the inbox for audit and replay. */
  raw: z.unknown().optional(),
})
export type InboundMessage = z.infer<typeof InboundMessage>
export type InboundMessageInput = z.input<typeof InboundMessage>

export const CaseStatus = z.enum([
  'received', // 受理: in, routed, acknowledged
  'dispatched', // 派单: sent down to an office
  'accepted', // 接单: the office took it
  'in_progress', // 办理
  'replied', // 答复: the office answered the citizen
  'resolved', // 办结
  'closed', // 评价 done or follow-up finished
])
export type CaseStatus = z.infer<typeof CaseStatus>
export const OPEN_STATUSES: readonly CaseStatus[] = ['received', 'dispatched', 'accepted', 'in_progress', 'replied']

export const Urgency = z.enum(['urgent', 'normal', 'complex'])
export type Urgency = z.infer<typeof Urgency>

export const RoutingDecision = z.object({
  officeId: z.string(),
  /** The strategy that decided (`jurisdiction`, `keywords`, `tracking-code`, `intake-desk`...). */
  strategy: z.string(),
  /** Human-readable: "matched place 伽师县 → office jiashi-procuratorate". */
  reason: z.string(),
  confidence: z.number().min(0).max(1),
  category: z.string().optional(),
  urgency: Urgency.optional(),
  /** The place found on the way (from the text, the form's code or a point), kept even when a later strategy decided. */
  place: z.object({ code: z.string(), name: z.string() }).optional(),
})
export type RoutingDecision = z.infer<typeof RoutingDecision>

export const Case = z.object({
  id: z.string(),
  trackingCode: z.string(),
  status: CaseStatus,
  officeId: z.string(),
  category: z.string().nullable(),
  urgency: Urgency,
  /** The channel the case came in on; replies go back there. */
  channelId: z.string(),
  citizen: Address,
  contact: Contact.nullable(),
  anonymous: z.boolean(),
  summary: z.string(),
  place: z.string().nullable(),
  /** The administrative place routing found (code and name), whichever strategy decided; `place` keeps the free text. */
  placeCode: z.string().nullable().default(null),
  placeName: z.string().nullable().default(null),
  language: z.string(),
  deadlineAt: Timestamp.nullable(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  resolvedAt: Timestamp.nullable(),
  rating: z.number().int().min(1).max(5).nullable(),
  /** The staff member inside the office who has the case, once assigned. */
  assigneeId: z.string().nullable(),
  /** The duplicate cluster the case belongs to (other citizens reporting the same matter), if any. */
  clusterId: z.string().nullable(),
  /** When the handling office must have accepted (接单) the case; null once it has or when no policy applies. */
  acceptDeadlineAt: Timestamp.nullable(),
  /** When the handling office accepted the case (reset when it moves to another office). */
  acceptedAt: Timestamp.nullable(),
  /** How many times the case was reopened (重办). */
  reopenCount: z.number().int().nonnegative(),
})
export type Case = z.infer<typeof Case>

/**
 * Cases from different citizens about one matter (ten reports of the same broken bridge). Each
 * citizen keeps their own case and tracking code; the members are the cases whose `clusterId` is this.
 */
export const Cluster = z.object({
  id: z.string(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  /** `system` when intake matched the cases, else the staff id who linked them. */
  createdBy: z.string(),
})
export type Cluster = z.infer<typeof Cluster>

export const CaseEventType = z.enum([
  'received',
  'routed',
  'follow_up',
  'acknowledged',
  'dispatched',
  'transferred',
  'status_changed',
  'replied',
  'note',
  'delivery_failed',
  'rated',
  'transcribed',
  'transcription_pending',
  'transcription_failed',
  'returned',
  'assigned',
  'alerted',
  'erased',
  // The lifecycle (issue 10; names agreed in LIFECYCLE-CONTRACT.md).
  'deadline_set',
  'extension_requested',
  'extension_decided',
  'reminded',
  'acceptance_overdue',
  'escalated',
  'supervision_note',
  'survey_sent',
  'related',
  'clustered',
  'unclustered',
  /** Someone opened the citizen's contact details (only the handling office may). */
  'contact_viewed',
  /** The case was handed to the other system its office works in: data { channelId, externalId }. */
  'forwarded',
  /** That system changed the case: data { channelId, externalId, status, notes? }. */
  'external_update',
  /** 督办: a supervising office's note on an overdue or escalated case. */
  'supervision_note',
  // A new case citing another citizen's case: data { caseId, trackingCode } of the cited one.
  'related',
  // The case's deadlines set or moved (LIFECYCLE-CONTRACT.md); the stats rows read it.
  'deadline_set',
])
export type CaseEventType = z.infer<typeof CaseEventType>

/** One step in a case's life. Append-only: the audit trail. */
export const CaseEvent = z.object({
  id: z.number().int().optional(),
  caseId: z.string(),
  at: Timestamp,
  type: CaseEventType,
  /** `system`, `citizen`, a staff id, or a strategy name. */
  actor: z.string(),
  /** Whether the citizen's status page shows it. Staff notes never are. */
  public: z.boolean(),
  data: z.record(z.string(), z.unknown()).default({}),
})
export type CaseEvent = z.infer<typeof CaseEvent>
export type CaseEventInput = z.input<typeof CaseEvent>

export const DeliveryStatus = z.enum(['received', 'pending', 'sent', 'delivered', 'failed', 'dead'])
export type DeliveryStatus = z.infer<typeof DeliveryStatus>

/** A message on the record of a case: the citizen's, or one sent to them. */
export const CaseMessage = z.object({
  id: z.string(),
  caseId: z.string(),
  direction: z.enum(['in', 'out']),
  channelId: z.string(),
  externalId: z.string().nullable(),
  /** Staff id for replies, `system` for acknowledgements, the citizen's address id for inbound. */
  author: z.string(),
  subject: z.string().nullable(),
  text: z.string(),
  attachments: z.array(Attachment),
  deliveryStatus: DeliveryStatus,
  createdAt: Timestamp,
})
export type CaseMessage = z.infer<typeof CaseMessage>

/** A case as it is handed to another system (`OutboundMessage.forward`). */
export const ForwardedCase = z.object({
  trackingCode: z.string(),
  category: z.string().nullable(),
  /** The citizen's first message, as written. */
  description: z.string(),
  subject: z.string().nullable(),
  /** The place the citizen named, else the place routing found. */
  place: z.string().nullable(),
  placeCode: z.string().nullable(),
  contact: Contact.nullable(),
  createdAt: Timestamp,
})
export type ForwardedCase = z.infer<typeof ForwardedCase>

/** What the outbox asks an adapter to deliver. */
export const OutboundMessage = z.object({
  id: z.string(),
  caseId: z.string(),
  channelId: z.string(),
  to: Address,
  /**
   * `alert` goes to an office (an urgent case), not to the citizen; `forward` hands the case to the
   * other system an office works in (an Open311 endpoint), with its facts in `forward`.
   */
  kind: z.enum(['acknowledgement', 'reply', 'notice', 'alert', 'forward']),
  subject: z.string().optional(),
  text: z.string(),
  /**
   * The template the text was rendered from (acknowledgement, followUp, reply, resolved, rated,
   * alert): a channel that may only send pre-approved templates (Chinese SMS) picks its own by it.
   */
  template: z
    .enum([
      'acknowledgement',
      'followUp',
      'reply',
      'resolved',
      'rated',
      'alert',
      // The lifecycle's: to citizens, then to offices.
      'survey',
      'reopened',
      'ratingTooEarly',
      'alreadyRated',
      'reminder',
      'acceptanceOverdue',
      'escalation',
      'supervision',
      'extensionRequested',
      'reopenedAlert',
    ])
    .optional(),
  trackingCode: z.string(),
  /** Link to the citizen's status page for this case. */
  statusUrl: z.string(),
  /** The citizen's latest message on this case (its provider id): email In-Reply-To, a Telegram reply. */
  inReplyTo: z.string().optional(),
  /** Every provider message id of the conversation, oldest first (email References). */
  references: z.array(z.string()).optional(),
  /** The office answering, for channels that show a sender (email From / Reply-To). */
  office: z.object({ id: z.string(), name: z.string(), email: z.string().optional() }).optional(),
  language: z.string(),
  /** For `forward`: the case as the other system needs it, read by the outbox when it sends. */
  forward: ForwardedCase.optional(),
})
export type OutboundMessage = z.infer<typeof OutboundMessage>


export const OutboxStatus = z.enum(['pending', 'sending', 'sent', 'dead'])
export type OutboxStatus = z.infer<typeof OutboxStatus>

export const OutboxItem = z.object({
  id: z.string(),
  messageId: z.string(),
  caseId: z.string(),
  channelId: z.string(),
  status: OutboxStatus,
  attempts: z.number().int(),
  nextAttemptAt: Timestamp,
  lastError: z.string().nullable(),
  providerId: z.string().nullable(),
  /** Sent with every attempt so the provider (or the integrator) can drop a repeat. */
  idempotencyKey: z.string(),
  payload: OutboundMessage,
  createdAt: Timestamp,
  updatedAt: Timestamp,
})
export type OutboxItem = z.infer<typeof OutboxItem>

/** Durations by urgency, as the deadlines module reads them (`2h`, `5 working days`, `2 working hours`). */
export const UrgencyDurations = z.object({ urgent: z.string(), normal: z.string(), complex: z.string() }).partial().strict()
export type UrgencyDurations = z.infer<typeof UrgencyDurations>

/** A deadline policy by urgency, per category on top. */
export const OfficeDeadlines = UrgencyDurations.extend({
  /** Time to accept (接单) a case, e.g. `2 working hours`. */
  accept: z.string().optional(),
  categories: z.record(z.string(), UrgencyDurations).optional(),
}).strict()
export type OfficeDeadlines = z.infer<typeof OfficeDeadlines>

export const Office = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'office ids are kebab-case'),
  name: z.string().min(1),
  /** Localised names, e.g. { en: 'Jiashi County Procuratorate' }. */
  names: z.record(z.string(), z.string()).default({}),
  parentId: z.string().nullable().default(null),
  /** Places this office is responsible for: names (with aliases) and/or official codes. */
  jurisdiction: z
    .object({
      codes: z.array(z.string()).default([]),
      places: z.array(z.object({ name: z.string(), aliases: z.array(z.string()).default([]) }).strict()).default([]),
    })
    .strict()
    .default({ codes: [], places: [] }),
  /** Categories of matters this office handles. */
  remit: z.array(z.string()).default([]),
  contact: z
    .object({
      email: z.string().optional(),
      phone: z.string().optional(),
      address: z.string().optional(),
      /** Where urgent cases are announced, as an address on the configured alert channel. */
      alert: z.string().optional(),
      /** The office's on-duty line (值班电话), answered out of hours. */
      dutyPhone: z.string().optional(),
    })
    .strict()
    .default({}),
  /** People who take cases inside the office; assignment picks among those on duty. */
  staff: z.array(z.object({ id: z.string().min(1), name: z.string().min(1), onDuty: z.boolean().default(true) }).strict()).default([]),
  /** How a case that lands here is given to one person: not at all, in turn, or to whoever has the fewest open. */
  assignment: z.enum(['none', 'round-robin', 'least-open']).default('none'),
  /** The office where a person dispatches what no rule could route. */
  intakeDesk: z.boolean().default(false),
  /**
   * The office works in another system: every case that lands here is forwarded through this
   * channel (an adapter with `forwarding`, e.g. `open311Sender`), and what that system does comes back.
   */
  forwardTo: z.string().optional(),
  /**
   * This office's deadlines, over the deployment's (and its parents'): `{ normal: '3 working days',
   * categories: { roads: { urgent: '4h' } } }`. The most specific policy wins (lifecycle/deadline-policy.ts).
   */
  deadlines: OfficeDeadlines.optional(),
})
  // A mistyped key (`parentID`, `remits`) would otherwise be dropped in silence and change where cases go.
  .strict()
export type Office = z.infer<typeof Office>
export type OfficeInput = z.input<typeof Office>

export const CaseFilter = z.object({
  status: CaseStatus.optional(),
  officeId: z.string().optional(),
  /** The caller's scope (an office subtree): cases elsewhere are neither listed nor counted. */
  officeIds: z.array(z.string()).readonly().optional(),
  channelId: z.string().optional(),
  category: z.string().optional(),
  urgency: Urgency.optional(),
  assigneeId: z.string().optional(),
  /** The cases of one sender on one channel (with channelId). */
  citizenId: z.string().optional(),
  /** The place's code or any code below it (a township sees its villages): a prefix of `placeCode`. */
  placeCode: z.string().optional(),
  /** Created in [createdFrom, createdTo) and updated in [updatedFrom, updatedTo). */
  createdFrom: Timestamp.optional(),
  createdTo: Timestamp.optional(),
  updatedFrom: Timestamp.optional(),
  updatedTo: Timestamp.optional(),
  /** Open cases only. */
  open: z.boolean().optional(),
  /** Cases whose deadline is before this instant and that are still open. */
  overdueAt: Timestamp.optional(),
  /** Open cases due at or after `dueAfter` and before `dueBefore` (due soon). */
  dueAfter: Timestamp.optional(),
  dueBefore: Timestamp.optional(),
  /** The members of one duplicate cluster. */
  clusterId: z.string().optional(),
  /** Open cases escalated (督办) at least once: an `escalated` event is on their record. */
  escalated: z.boolean().optional(),
  /** Open cases with an extension request (延期) waiting for a decision. */
  extensionPending: z.boolean().optional(),
  limit: z.number().int().min(1).max(500).default(50),
  /** Opaque cursor from the previous page. */
  cursor: z.string().optional(),
})
export type CaseFilter = z.infer<typeof CaseFilter>
export type CaseFilterInput = z.input<typeof CaseFilter>
