import type { ChannelAdapter, ExternalStatus } from '../contracts/channel.ts'
import type { CaseChange, ExternalLink, Store } from '../contracts/store.ts'
import type { LifecycleContext } from '../lifecycle/context.ts'
import { transitionChange } from '../lifecycle/transitions.ts'
import type { Logger } from '../log/index.ts'
import { OPEN_STATUSES, type Case } from '../model/index.ts'
import { pollingLoop, type PollingLoop } from '../polling/index.ts'

export interface ForwardingWorkerDeps {
  store: Store
  channels: Record<string, ChannelAdapter>
  lifecycle: LifecycleContext
  log: Logger
  now: () => number
  onOutboxQueued?: () => void
}

/** Forwarded cases read back per poll and channel. */
export const FORWARDED_PER_POLL = 500
const DEFAULT_POLL_MS = 60_000

/** What the other system said, as the link keeps it: a repeat of it changes nothing. */
const fingerprint = (s: ExternalStatus) => JSON.stringify([s.status, s.notes ?? ''])
const previousNotes = (seen: string | null) => (seen ? ((JSON.parse(seen) as [string, string])[1] ?? '') : '')

/**
 * Reads back the cases handed to other systems: each forwarding channel is asked about its open
 * forwarded cases, and what changed becomes one case change — an `external_update` event, the
 * other system's new note as a reply to the citizen on their own channel (through the outbox), and
 * `closed` there resolves the case here. Several processes may poll at once: the store applies an
 * update only over the report it was computed from.
 */
export function createForwardingWorker(deps: ForwardingWorkerDeps): PollingLoop | undefined {
  const forwarding = Object.entries(deps.channels).filter(([, a]) => a.forwarding)
  if (forwarding.length === 0) return undefined
  const pollMs = Math.min(...forwarding.map(([, a]) => a.forwarding!.pollMs ?? DEFAULT_POLL_MS))

  async function pollChannel(channelId: string, adapter: ChannelAdapter): Promise<number> {
    const links = await deps.store.listExternalLinks(channelId, FORWARDED_PER_POLL)
    if (links.length === 0) return 0
    const log = deps.log.child({ channelId })
    const statuses = await adapter.forwarding!.poll(
      links.map((l) => l.externalId),
      { log, now: deps.now },
    )
    const byId = new Map(statuses.map((s) => [s.externalId, s]))
    let applied = 0
    for (const link of links) {
      const status = byId.get(link.externalId)
      if (!status || fingerprint(status) === link.seen) continue
      const kase = await deps.store.getCase(link.caseId)
      if (!kase) continue
      const at = deps.now()
      const change = await externalChange(deps.lifecycle, kase, link, status, at)
      if (await deps.store.applyExternalUpdate({ caseId: kase.id, channelId, expectedSeen: link.seen, seen: fingerprint(status), at, change })) {
        applied++
        if (change.outbound?.length) deps.onOutboxQueued?.()
        log.info('forwarded case updated', { caseId: kase.id, externalId: link.externalId, status: status.status })
      }
    }
    return applied
  }

  return pollingLoop({
    name: 'forwarding',
    pollMs,
    log: deps.log,
    runAtStart: false,
    async cycle() {
      let applied = 0
      for (const [channelId, adapter] of forwarding) {
        try {
          applied += await pollChannel(channelId, adapter)
        } catch (err) {
          // One system down must not stop the others: logged, asked again at the next poll.
          deps.log.warn('reading back forwarded cases failed', { channelId, error: (err as Error).message })
        }
      }
      return applied
    },
  })
}

/** The change one report makes: its event, a reply for a new note, resolution when closed there. */
async function externalChange(lc: LifecycleContext, kase: Case, link: ExternalLink, s: ExternalStatus, at: number): Promise<CaseChange> {
  // The other system works the case for the office: its word answers and resolves like the office's staff.
  const actor = { id: `channel:${link.channelId}`, role: 'admin' as const }
  const change: CaseChange = {
    caseId: kase.id,
    at,
    patch: {},
    events: [
      {
        caseId: kase.id,
        at,
        type: 'external_update',
        actor: actor.id,
        public: false,
        data: { channelId: link.channelId, externalId: link.externalId, status: s.status, ...(s.notes ? { notes: s.notes } : {}), ...(s.agency ? { agency: s.agency } : {}) },
      },
    ],
    outbound: [],
  }
  const open = OPEN_STATUSES.includes(kase.status)
  const notes = s.notes?.trim()
  if (notes && notes !== previousNotes(link.seen)) {
    const out = lc.messaging.outbound(kase, 'reply', lc.messaging.render('reply', kase, { text: notes }), actor.id, at, await lc.messaging.threadOf(kase), 'reply')
    change.outbound!.push(out)
    change.events.push({ caseId: kase.id, at, type: 'replied', actor: actor.id, public: true, data: { messageId: out.message.id, text: notes } })
    if (open && kase.status !== 'replied' && s.status !== 'closed') merge(change, await transitionChange(lc, kase, 'answer', { actor }, at))
  }
  if (s.status === 'closed' && open) merge(change, await transitionChange(lc, kase, 'resolve', { actor, reason: 'closed in the other system' }, at))
  return change
}

function merge(into: CaseChange, from: Awaited<ReturnType<typeof transitionChange>>): void {
  if ('ok' in from) return
  Object.assign(into.patch!, from.patch)
  into.events.push(...from.events)
  into.outbound!.push(...(from.outbound ?? []))
  if (from.timers) into.timers = from.timers
}
