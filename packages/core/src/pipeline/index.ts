import { z } from 'zod'
import type { IntakeResult } from '../contracts/channel.ts'
import type { CaseDraft, RoutingStrategy } from '../contracts/routing.ts'
import type { BlobStore } from '../contracts/blob-store.ts'
import { StoreConflictError, type CaseChange, type OutboundWrite, type PendingTranscription, type Store, type TimerPlan } from '../contracts/store.ts'
import { parseRating, type ParsedRating, type RatingOutcome } from '../lifecycle/rating.ts'
import type { Transcriber } from '../contracts/transcriber.ts'
import { deadlineFor, type DeadlinePolicy, type WorkCalendar } from '../deadlines/index.ts'
import type { IdGenerator } from '../ids/index.ts'
import type { Logger } from '../log/index.ts'
import {
  InboundMessage,
  OPEN_STATUSES,
  type Case,
  type CaseEventInput,
  type CaseMessage,
  type InboundMessageInput,
} from '../model/index.ts'
import type { OfficeDirectory } from '../offices/index.ts'
import { createMessaging, type LandCase, type Messaging, type Thread } from '../messaging/index.ts'
import { runRoutingChain } from '../routing-chain/index.ts'
import type { ClusterMatcher } from '../lifecycle/cluster-matching.ts'
import { pickLanguage, type MessageTemplates } from '../templates/index.ts'
import { findTrackingCodes, newTrackingCode } from '../tracking-code/index.ts'
import { classifyMessage, type MessageClass } from '../lifecycle/classify-message.ts'
import { answerStatusQuery, isCitizenOf } from '../lifecycle/status-answer.ts'
import { createLookupThrottle, type LookupThrottle } from '../throttle/index.ts'
import { audioToTranscribe, transcribeStored, TRANSCRIPTION_DEFAULTS, type ApplyTranscript } from '../transcription/index.ts'

export interface PipelineOptions {
  store: Store
  offices: OfficeDirectory
  routing: readonly RoutingStrategy[]
  deadlines: DeadlinePolicy
  calendar: WorkCalendar
  templates: Record<string, MessageTemplates>
  /** Language used when neither the citizen's choice nor their text tells. */
  locale: string
  publicUrl: string
  /** A message from the same sender on the same channel within this window joins their open case. */
  followUpWindowMs: number
  /** Send a short "added to your case" note for follow-ups. */
  acknowledgeFollowUps: boolean
  now: () => number
  ids: IdGenerator
  log: Logger
  /** Called after a write that queued outbox rows, so the worker can deliver at once. */
  onOutboxQueued?: () => void
  blobs: BlobStore
  /** Turns voice messages into text; without one, they reach staff as audio. */
  transcriber?: Transcriber
  /** Time allowed to transcribe at intake, and the delay before the worker's first retry. */
  transcription?: { timeoutMs?: number; inlineTimeoutMs?: number; baseDelayMs?: number }
  dispatchRules?: readonly DispatchRule[]
  /** Throttles status lookups per sender (default: createLookupThrottle's limits, in memory). */
  lookups?: LookupThrottle
  /** How long after resolution a rating still finds its case (the survey's delay plus its expiry). */
  surveyWindowMs?: number
  /** Assignment and urgent alerts for a case landing in an office (the case actions provide it). */
  landing?: LandCase
  /** Finds the open case a new one duplicates (same place, category and matter): both join its cluster. */
  clusters?: ClusterMatcher
  /** A new case's deadlines, events and first timers (the lifecycle provides it). */
  startCase?: (kase: Case, at: number) => { deadlineAt: number | null; acceptDeadlineAt: number | null; events: CaseEventInput[]; timers: TimerPlan }
  /** What reopening a resolved or closed case at the citizen's word changes (lifecycle/transitions.ts). */
  reopen?: (kase: Case, at: number) => Promise<CaseChange | undefined>
  /** What a citizen's rating does to their case (lifecycle/rating.ts). */
  rating?: (kase: Case, rating: ParsedRating, at: number, opts: { messageId: string; thread: Thread }) => Promise<RatingOutcome>
}

/** What lands at `from` (optionally only one category) is dispatched straight to `to`, an office below it. */
export interface DispatchRule {
  name?: string
  from: string
  to: string
  category?: string
}

/** The message did not pass the InboundMessage schema: the adapter should answer 400. */
export class InboundValidationError extends Error {
  readonly code = 'invalid_message'
  constructor(readonly issues: z.core.$ZodIssue[]) {
    super(
      `[pipeline] invalid message: ${issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    )
  }
}

/**
 * The intake pipeline. It renders and builds outbound messages through `Messaging` (messaging/),
 * which it also offers to whoever holds it; the case actions, the lifecycle and the transcription
 * worker depend on `Messaging` and their own narrow types, never on the pipeline, so the pipeline
 * sits below them.
 */
export interface Pipeline extends Messaging {
  /** Persist one message (idempotent on channel + external id), route it, queue the acknowledgement. */
  ingest(input: InboundMessageInput, options?: IngestOptions): Promise<IntakeResult>
  /**
   * What a late transcript changes on its case: the event, the summary when the voice message
   * opened the case, and a new office when the case waited at the intake desk for want of words.
   */
  transcribed: ApplyTranscript
}

export interface IngestOptions {
  /** The channel answers the provider's webhook with the acknowledgement (see InboundRoute.acknowledgesInline). */
  inlineAck?: boolean
}

const MAX_CODE_ATTEMPTS = 4
const VOICE_SUMMARY = '(voice message, transcript pending)'

export function createPipeline(options: PipelineOptions): Pipeline {
  const { store, offices, now, ids, log } = options
  const transcriptionTimeoutMs = options.transcription?.timeoutMs ?? TRANSCRIPTION_DEFAULTS.timeoutMs
  const transcriptionRetryMs = options.transcription?.baseDelayMs ?? TRANSCRIPTION_DEFAULTS.baseDelayMs
  const inlineTranscriptionMs = Math.min(transcriptionTimeoutMs, options.transcription?.inlineTimeoutMs ?? TRANSCRIPTION_DEFAULTS.inlineTimeoutMs)
  const languages = Object.keys(options.templates)
  const lookups = options.lookups ?? createLookupThrottle()
  // A survey is answered days after resolution: a resolved case waits for its rating this long.
  const surveyWindowMs = Math.max(options.followUpWindowMs, options.surveyWindowMs ?? 0)

  const messaging = createMessaging({ store, offices, templates: options.templates, locale: options.locale, publicUrl: options.publicUrl, ids })
  const { statusUrl, render, outbound, outboundTo } = messaging

  /**
   * The case a message joins. A cited code joins only its own citizen's case (same channel and
   * address); someone else's cases are returned in `cited`, for a new case's `related` links.
   */
  async function findExistingCase(msg: InboundMessage, codes: string[], cited: Case[]): Promise<Case | undefined> {
    for (const code of codes) {
      const kase = await store.getCaseByTrackingCode(code)
      if (kase && isCitizenOf(kase, msg)) return kase
      if (kase) cited.push(kase)
    }
    if (msg.threadRefs.length) {
      const kase = await store.findCaseByMessageRef(msg.channelId, msg.threadRefs)
      if (kase) return kase
    }
    const open = await store.findOpenCaseBySender(msg.channelId, msg.from.id, msg.receivedAt - options.followUpWindowMs)
    if (open) return open
    // "5" after the survey ("reply 1–5 to rate") rates that case rather than opening one; a second
    // "5" finds the case it already rated, and is answered so.
    if (parseRating(msg.text)) {
      const since = msg.receivedAt - surveyWindowMs
      return (
        (await store.findResolvedCaseBySender(msg.channelId, msg.from.id, since)) ??
        (options.rating ? await store.findClosedCaseBySender(msg.channelId, msg.from.id, msg.receivedAt - options.followUpWindowMs) : undefined)
      )
    }
    return undefined
  }

  /** The acknowledgement goes out in the webhook's answer: on the record as sent, never queued. */
  const deliveredInline = (write: OutboundWrite, at: number): OutboundWrite => ({
    message: { ...write.message, deliveryStatus: 'sent' },
    outbox: { ...write.outbox, status: 'sent', attempts: 1, providerId: `inline-${write.message.id}`, updatedAt: at },
  })

  async function ingest(input: InboundMessageInput, { inlineAck = false }: IngestOptions = {}): Promise<IntakeResult> {
    const parsed = InboundMessage.safeParse(input)
    if (!parsed.success) throw new InboundValidationError(parsed.error.issues)
    const msg = parsed.data
    if (!msg.text.trim() && msg.attachments.length === 0 && msg.intent === undefined) {
      throw new InboundValidationError([{ code: 'custom', path: ['text'], message: 'a message needs text or an attachment', input: msg.text }])
    }
    const at = now()
    const asked: MessageClass = msg.attachments.length || msg.standalone ? { kind: 'text' } : classifyMessage(`${msg.subject ? `${msg.subject} ` : ''}${msg.text}`, msg.intent)
    if (asked.kind === 'status_query') return statusQuery(msg, asked, at, inlineAck)
    const voice = audioToTranscribe(msg.text, msg.attachments)
    let transcript: TranscriptEvent | undefined
    let pendingVoice: Omit<PendingTranscription, 'caseId'> | undefined
    // A provider's retry of a voice message is answered from the inbox: no second transcription.
    if (voice && options.transcriber && !(await store.findCaseByMessageRef(msg.channelId, [msg.externalId]))) {
      try {
        const limit = inlineAck ? inlineTranscriptionMs : transcriptionTimeoutMs
        const heard = await transcribeStored(options.transcriber, options.blobs, voice, msg.language, limit)
        msg.text = heard.text
        transcript = { engine: options.transcriber.name, confidence: heard.confidence }
      } catch (err) {
        const error = (err as Error).message
        log.warn('transcription at intake failed; the worker retries', { channelId: msg.channelId, error })
        pendingVoice = {
          messageId: '',
          blobKey: voice.blobKey,
          contentType: voice.contentType,
          ...(msg.language ? { language: msg.language } : {}),
          attempts: 1,
          nextAttemptAt: at + transcriptionRetryMs,
          lastError: error,
        }
      }
    }
    const found = findTrackingCodes(`${msg.subject ?? ''}\n${msg.text}`)
    const cited: Case[] = []
    const existing = msg.standalone ? undefined : await findExistingCase(msg, found.valid, cited)
    const messageId = ids()
    const message: CaseMessage = {
      id: messageId,
      caseId: existing?.id ?? '',
      direction: 'in',
      channelId: msg.channelId,
      externalId: msg.externalId,
      author: msg.from.id,
      subject: msg.subject ?? null,
      text: msg.text,
      attachments: msg.attachments.map((a) => ({ ...a, id: a.id ?? ids() })),
      deliveryStatus: 'received',
      createdAt: at,
    }
    const inbox = { id: ids(), channelId: msg.channelId, externalId: msg.externalId, receivedAt: msg.receivedAt, payload: msg.raw ?? null }
    const voiceEvents = (caseId: string): CaseEventInput[] =>
      transcript
        ? [{ caseId, at, type: 'transcribed', actor: transcript.engine, public: true, data: { messageId, confidence: transcript.confidence } }]
        : pendingVoice
          ? [{ caseId, at, type: 'transcription_pending', actor: 'system', public: true, data: { messageId, error: pendingVoice.lastError } }]
          : []
    const pending = (caseId: string) => (pendingVoice ? { transcription: { ...pendingVoice, messageId, caseId } } : {})

    const parsedRating = existing && options.rating ? parseRating(msg.text) : undefined
    // Words after a rating count on a resolved (or closed) case; on an open one only a bare rating is one.
    if (existing && parsedRating && options.rating && (['resolved', 'closed'].includes(existing.status) || !parsedRating.words)) {
      const outcome = await options.rating(existing, parsedRating, at, { messageId, thread: replyTo(msg) })
      const { change } = outcome
      const [answer, ...rest] = change.outbound ?? []
      const outbound = answer ? [inlineAck ? deliveredInline(answer, at) : answer, ...rest] : rest
      const result = await store.recordInbound({
        inbox,
        message,
        touchCase: { id: existing.id, updatedAt: at, ...(change.patch ? { patch: change.patch } : {}) },
        events: [...change.events, ...voiceEvents(existing.id)],
        outbound,
        ...(change.timers ? { timers: change.timers } : {}),
        ...pending(existing.id),
      })
      if (result.duplicate) return duplicateResult(result.caseId, result.messageId, inlineAck)
      if (rest.length || !inlineAck) options.onOutboxQueued?.()
      log.info('rating answered', { caseId: existing.id, rating: parsedRating.rating, outcome: outcome.kind })
      return addedTo(existing, messageId, inlineAck && answer ? answer.message.text : undefined)
    }

    if (existing) {
      const reopen = !OPEN_STATUSES.includes(existing.status)
      // 重办 at the citizen's word: back to the same office, accepted, with a new deadline (the lifecycle).
      const reopened = reopen && options.reopen ? await options.reopen(existing, at) : undefined
      const events: CaseEventInput[] = [
        {
          caseId: existing.id,
          at,
          type: 'follow_up',
          actor: 'citizen',
          public: true,
          data: { messageId, channelId: msg.channelId, reopened: reopen, ...(found.mistyped.length ? { mistypedCodes: found.mistyped } : {}) },
        },
      ]
      const notice =
        (options.acknowledgeFollowUps || inlineAck) && existing.channelId === msg.channelId
          ? outbound(existing, 'notice', render('followUp', existing), 'system', at, replyTo(msg), 'followUp')
          : undefined
      const out = notice ? [inlineAck ? deliveredInline(notice, at) : notice] : []
      const result = await store.recordInbound({
        inbox,
        message,
        touchCase: { id: existing.id, updatedAt: at, ...(reopened ? { patch: reopened.patch } : { reopen }) },
        events: [...events, ...(reopened?.events ?? []), ...voiceEvents(existing.id)],
        ...(reopened?.timers ? { timers: reopened.timers } : {}),
        outbound: out,
        ...pending(existing.id),
      })
      if (result.duplicate) return duplicateResult(result.caseId, result.messageId, inlineAck)
      if (out.length && !inlineAck) options.onOutboxQueued?.()
      log.info('follow-up added to case', { caseId: existing.id, channelId: msg.channelId, reopened: reopen })
      return addedTo(existing, messageId, notice && inlineAck ? notice.message.text : undefined)
    }

    const draft: CaseDraft = {
      text: msg.text,
      subject: msg.subject,
      place: msg.place,
      channelId: msg.channelId,
      to: msg.to,
      from: msg.from,
      language: msg.language,
      category: msg.category,
      trackingCodes: found.valid,
    }
    const { decision, trail } = await runRoutingChain(options.routing, draft, {
      offices,
      log,
      now,
      cases: { byTrackingCode: (code) => store.getCaseByTrackingCode(code) },
    })
    const urgency = decision.urgency ?? 'normal'
    const language = pickLanguage(`${msg.subject ?? ''}${msg.text}`, msg.language, options.locale, languages)
    const office = offices.get(decision.officeId)!
    // A dispatch rule sends what lands at an office straight down to one below it (派单 by rule).
    const rule = options.dispatchRules?.find((r) => r.from === office.id && (!r.category || r.category === decision.category))
    const landedOffice = rule ? offices.get(rule.to)! : office
    // Matched once, before the write: the store joins the cluster in the same transaction as the case.
    const clustering = options.clusters && !pendingVoice ? await options.clusters.match({ category: decision.category, place: msg.place, text: `${msg.subject ?? ''}\n${msg.text}` }, at) : {}

    for (let attempt = 1; ; attempt++) {
      const caseId = ids()
      const kase: Case = {
        id: caseId,
        trackingCode: newTrackingCode(),
        status: rule ? 'dispatched' : 'received',
        officeId: landedOffice.id,
        category: decision.category ?? null,
        urgency,
        channelId: msg.channelId,
        citizen: msg.from,
        contact: msg.contact ?? null,
        anonymous: msg.anonymous,
        summary: pendingVoice ? VOICE_SUMMARY : summarize(msg.subject, msg.text),
        place: msg.place?.text ?? null,
        placeCode: decision.place?.code ?? null,
        placeName: decision.place?.name ?? null,
        language,
        deadlineAt: deadlineFor(urgency, at, options.deadlines, options.calendar),
        createdAt: at,
        updatedAt: at,
        resolvedAt: null,
        rating: null,
        assigneeId: null,
        clusterId: null,
        acceptDeadlineAt: null,
        acceptedAt: null,
        reopenCount: 0,
      }
      const started = options.startCase?.(kase, at)
      if (started) Object.assign(kase, { deadlineAt: started.deadlineAt, acceptDeadlineAt: started.acceptDeadlineAt })
      const landed = await options.landing?.(kase, landedOffice.id, at, 'system')
      if (landed) kase.assigneeId = landed.assigneeId
      const ack = outbound(kase, 'acknowledgement', render('acknowledgement', kase), 'system', at, replyTo(msg), 'acknowledgement')
      const events: CaseEventInput[] = [
        { caseId, at, type: 'received', actor: 'citizen', public: true, data: { messageId, channelId: msg.channelId } },
        ...voiceEvents(caseId),
        {
          caseId,
          at,
          type: 'routed',
          actor: decision.strategy,
          public: true,
          data: {
            officeId: office.id,
            officeName: office.name,
            strategy: decision.strategy,
            reason: decision.reason,
            confidence: decision.confidence,
            category: decision.category ?? null,
            urgency,
            trail,
          },
        },
        ...(rule
          ? [
              { caseId, at, type: 'dispatched' as const, actor: `rule:${rule.name ?? `${rule.from}→${rule.to}`}`, public: true, data: { from: office.id, to: landedOffice.id, officeId: landedOffice.id, officeName: landedOffice.name } },
              { caseId, at, type: 'status_changed' as const, actor: `rule:${rule.name ?? `${rule.from}→${rule.to}`}`, public: false, data: { from: 'received', to: 'dispatched', transition: 'dispatch' } },
            ]
          : []),
        { caseId, at, type: 'acknowledged', actor: 'system', public: true, data: { messageId: ack.message.id } },
        // Not public: the status page must not show a stranger's case code to this citizen, nor the other way round.
        ...cited.map((c) => ({ caseId, at, type: 'related' as const, actor: 'citizen', public: false, data: { caseId: c.id, trackingCode: c.trackingCode } })),
        ...(started?.events ?? []),
        ...(landed?.events ?? []),
      ]
      try {
        const result = await store.recordInbound({
          inbox,
          message: { ...message, caseId },
          newCase: kase,
          events,
          outbound: [inlineAck ? deliveredInline(ack, at) : ack, ...(landed?.outbound ?? [])],
          ...(started ? { timers: started.timers } : {}),
          ...pending(caseId),
          ...clustering,
        })
        if (result.duplicate) return duplicateResult(result.caseId, result.messageId, inlineAck)
      } catch (err) {
        if (err instanceof StoreConflictError && err.field === 'tracking_code' && attempt < MAX_CODE_ATTEMPTS) continue
        throw err
      }
      if (!inlineAck || landed?.outbound.length) options.onOutboxQueued?.()
      log.info('case opened', {
        caseId,
        trackingCode: kase.trackingCode,
        channelId: msg.channelId,
        officeId: landedOffice.id,
        strategy: decision.strategy,
        confidence: decision.confidence,
      })
      return {
        caseId,
        trackingCode: kase.trackingCode,
        messageId,
        duplicate: false,
        followUp: false,
        officeId: landedOffice.id,
        ...(inlineAck ? { acknowledgement: ack.message.text } : {}),
      }
    }
  }

  /**
   * A status query: the asker gets the answer on the channel they asked from, and nothing else
   * happens — no case joined, none reopened. The exchange is on the record of the asker's own
   * case, or of none (someone else's case, an unknown code): the cited case is never touched.
   */
  async function statusQuery(msg: InboundMessage, asked: Extract<MessageClass, { kind: 'status_query' }>, at: number, inlineAck: boolean): Promise<IntakeResult> {
    const answer = await answerStatusQuery(
      { store, offices, throttle: lookups, locale: options.locale, languages, timeZone: options.calendar.timeZone, statusUrl, lookupUrl: `${options.publicUrl.replace(/\/$/, '')}/status` },
      msg,
      asked,
    )
    const caseId = answer.own?.id ?? ''
    const messageId = ids()
    const message: CaseMessage = {
      id: messageId,
      caseId,
      direction: 'in',
      channelId: msg.channelId,
      // Off the case's thread when it is not the asker's: a reply to it must not join that case.
      externalId: caseId ? msg.externalId : null,
      author: msg.from.id,
      subject: msg.subject ?? null,
      text: msg.text,
      attachments: [],
      deliveryStatus: 'received',
      createdAt: at,
    }
    const reply = outboundTo({ to: msg.from, language: answer.language, caseId }, answer.own ?? answer.asked, 'notice', answer.text, 'system', at, replyTo(msg))
    const write = inlineAck ? deliveredInline(reply, at) : reply
    const result = await store.recordInbound({
      inbox: { id: ids(), channelId: msg.channelId, externalId: msg.externalId, receivedAt: msg.receivedAt, payload: msg.raw ?? null },
      message,
      events: [],
      outbound: [write],
    })
    const code = answer.asked?.trackingCode ?? asked.code ?? ''
    const base = { caseId, trackingCode: code, duplicate: result.duplicate, followUp: false, officeId: answer.own?.officeId ?? '' }
    if (result.duplicate) {
      // The provider retried: the first answer stands (recorded, or sent inline again with the same words).
      return { ...base, caseId: result.caseId, messageId: result.messageId, ...(inlineAck ? { acknowledgement: answer.text } : {}) }
    }
    if (!inlineAck) options.onOutboxQueued?.()
    log.info('status query answered', { channelId: msg.channelId, outcome: answer.outcome, ownCase: caseId !== '' })
    return { ...base, messageId, ...(inlineAck ? { acknowledgement: answer.text } : {}) }
  }

  async function duplicateResult(caseId: string, messageId: string, inlineAck: boolean): Promise<IntakeResult> {
    const kase = await store.getCase(caseId)
    if (!kase) throw new Error(`[pipeline] inbox row points at missing case ${caseId}`)
    const result: IntakeResult = { caseId, trackingCode: kase.trackingCode, messageId, duplicate: true, followUp: false, officeId: kase.officeId }
    if (!inlineAck) return result
    // The provider retries when our first answer did not reach it in time: answer with the same text.
    const messages = await store.listMessages(caseId)
    const at = messages.findIndex((m) => m.id === messageId)
    const answer = messages.slice(at + 1).find((m) => m.direction === 'out' && m.author === 'system')
    return { ...result, acknowledgement: answer?.text ?? render('followUp', kase) }
  }

  const transcribed: Pipeline['transcribed'] = async (caseId, messageId, heard, engine, at) => {
    const kase = await store.getCase(caseId)
    if (!kase) throw new Error(`[pipeline] case ${caseId} is gone`)
    const events: CaseEventInput[] = [{ caseId, at, type: 'transcribed', actor: engine, public: true, data: { messageId, confidence: heard.confidence } }]
    const patch: CaseChange['patch'] = {}
    if (kase.summary === VOICE_SUMMARY) patch.summary = summarize(undefined, heard.text)
    const desk = offices.get(kase.officeId)?.intakeDesk
    if (kase.status === 'received' && desk) {
      const draft: CaseDraft = { text: heard.text, channelId: kase.channelId, from: kase.citizen, language: kase.language, trackingCodes: [] }
      const { decision, trail } = await runRoutingChain(options.routing, draft, { offices, log, now, cases: { byTrackingCode: (code) => store.getCaseByTrackingCode(code) } })
      const office = offices.get(decision.officeId)
      if (office && office.id !== kase.officeId) {
        patch.officeId = office.id
        if (decision.category) patch.category = decision.category
        events.push({
          caseId,
          at,
          type: 'routed',
          actor: decision.strategy,
          public: true,
          data: { officeId: office.id, officeName: office.name, strategy: decision.strategy, reason: decision.reason, confidence: decision.confidence, trail, after: 'transcript' },
        })
      }
    }
    return { caseId, at, patch, events }
  }

  return { ...messaging, ingest, transcribed }
}

interface TranscriptEvent {
  engine: string
  confidence: number | null
}

/** The result for a message added to an existing case (a follow-up or a rating). */
function addedTo(kase: Case, messageId: string, acknowledgement: string | undefined): IntakeResult {
  return {
    caseId: kase.id,
    trackingCode: kase.trackingCode,
    messageId,
    duplicate: false,
    followUp: true,
    officeId: kase.officeId,
    ...(acknowledgement !== undefined ? { acknowledgement } : {}),
  }
}

/** A citizen's rating: the whole message is one digit 1–5 (full-width too: NFKC), maybe with 分/星/stars. */
export function ratingIn(text: string): number | undefined {
  const m = /^\s*([1-5])\s*(分|星|颗星|stars?|points?)?\s*[。.!]?\s*$/i.exec(text.normalize('NFKC'))
  return m ? Number(m[1]) : undefined
}

/** An answer to the message that just came in: it replies to it, after what it referred to. */
function replyTo(msg: InboundMessage): Thread {
  return {
    inReplyTo: msg.externalId,
    references: [...msg.threadRefs.filter((r) => r !== msg.externalId), msg.externalId],
    ...(msg.subject ? { subject: msg.subject } : {}),
  }
}

function summarize(subject: string | undefined, text: string): string {
  const source = (subject?.trim() || text.trim() || '(attachment only)').replace(/\s+/g, ' ')
  return [...source].length > 140 ? [...source].slice(0, 139).join('') + '…' : source
}
