import type { Context, Hono } from 'hono'
import { z } from 'zod'
import {
  addDuration,
  handlesCase,
  maskCase,
  maskMessage,
  nextStatuses,
  OPEN_STATUSES,
  RETURN_REASONS,
  CaseStatus,
  type ActionResult,
  type Case,
  type CaseEvent,
} from '@intake/core'
import type { ConsoleDeps, ConsoleEnv } from './app.tsx'
import { ErrorSummary } from './layout.tsx'
import { formatTime, iso } from './format.ts'

export const MAX_REPLY = 4000
const MAX_NOTE = 2000

interface Shown {
  status?: number
  error?: string
  field?: string
  notice?: string
  contact?: boolean
  /** What the user typed, kept when the form is shown again. */
  draft?: string
}

/**
 * One case: the conversation on every channel in order, attachments through an authorised route,
 * the routing decision, the timeline, deadlines, notes, the reply box and the actions this role may
 * take. Contact details only for the handling office, on request, each request an event.
 */
export function casePageRoutes(app: Hono<ConsoleEnv>, deps: ConsoleDeps): void {
  const { store, offices } = deps
  const officeName = (id: string, lang: string) => offices.get(id)?.names[lang === 'en' ? 'en' : 'zh-CN'] ?? offices.get(id)?.name ?? id

  /** The case if it is in the user's scope; undefined means 404, whether it exists or not. */
  const scoped = (c: Context<ConsoleEnv>) => store.getCase(c.req.param('id') ?? '', c.get('identity').scope)

  async function show(c: Context<ConsoleEnv>, kase: Case, s: Shown = {}) {
    const t = c.get('t')
    const lang = c.get('lang')
    const identity = c.get('identity')
    const csrf = c.get('session').csrfToken
    const [messages, events] = await Promise.all([store.listMessages(kase.id), store.listEvents(kase.id)])
    const now = deps.now()
    const masked = maskCase(kase)
    const routed = [...events].reverse().find((e) => e.type === 'routed')
    const notes = events.filter((e) => e.type === 'note' || e.type === 'supervision_note')
    const office = offices.get(kase.officeId)
    const below = offices.all.filter((o) => o.id !== kase.officeId && offices.covers(kase.officeId, o.id))
    const open = OPEN_STATUSES.includes(kase.status)
    const can = (p: Parameters<typeof identity.permissions.has>[0]) => identity.permissions.has(p)
    const overdue = kase.deadlineAt !== null && kase.deadlineAt < now && open
    const Hidden = () => <input type="hidden" name="_csrf" value={csrf} />
    const action = (name: string) => `/console/cases/${encodeURIComponent(kase.id)}/${name}`

    return deps.page(c, {
      title: `${t.cases} ${kase.trackingCode}`,
      section: 'cases',
      status: s.status,
      body: (
        <>
          <p>
            <a href="/console/cases">← {t.cases}</a>
          </p>
          <h1>
            {kase.trackingCode} <span class="badge">{t.statuses[kase.status]}</span> {overdue ? <span class="badge overdue">{t.overdue}</span> : null}
          </h1>
          <ErrorSummary message={s.error} field={s.field} />
          {s.notice ? (
            <p class="notice" role="status">
              {s.notice}
            </p>
          ) : null}
          <div class="case">
            <div>
              <section class="panel" aria-labelledby="h-messages">
                <h2 id="h-messages">{t.messages}</h2>
                {messages.map((raw) => {
                  const m = maskMessage(raw)
                  return (
                    <article class={`msg ${m.direction}`}>
                      <p class="muted">
                        {m.direction === 'in' ? t.inbound : t.outbound} · {m.channelId} · {m.author} · <time datetime={iso(m.createdAt)}>{formatTime(m.createdAt, lang, deps.timeZone)}</time>
                        {m.direction === 'out' ? ` · ${t.deliveredState}: ${m.deliveryStatus}` : ''}
                      </p>
                      {m.subject ? <p><strong>{m.subject}</strong></p> : null}
                      <div class="text">{m.text}</div>
                      {m.attachments.map((a) => {
                        if (!a.id) return null
                        const src = `/console/cases/${encodeURIComponent(kase.id)}/attachments/${encodeURIComponent(a.id)}`
                        if (a.contentType.startsWith('image/')) return <p><img src={src} alt={`${t.attachment}: ${a.filename ?? a.contentType}`} loading="lazy" /></p>
                        if (a.contentType.startsWith('audio/')) return <p><audio controls preload="none" src={src} aria-label={`${t.attachment}: ${a.filename ?? a.contentType}`}></audio></p>
                        return <p><a href={src}>{t.attachment}: {a.filename ?? a.contentType}</a></p>
                      })}
                    </article>
                  )
                })}
              </section>

              {can('reply') ? (
                <section class="panel" aria-labelledby="h-reply">
                  <h2 id="h-reply">{t.reply}</h2>
                  <form method="post" action={action('reply')}>
                    <Hidden />
                    <label for="reply-text">{t.replyText}</label>
                    <p class="hint" id="reply-hint">{t.replyHint(kase.channelId)}</p>
                    <textarea id="reply-text" name="text" maxlength={MAX_REPLY} required aria-describedby="reply-hint">{s.field === 'reply-text' ? s.draft : ''}</textarea>
                    <div><button type="submit">{t.send}</button></div>
                  </form>
                </section>
              ) : null}

              {can('note') ? (
                <section class="panel" aria-labelledby="h-notes">
                  <h2 id="h-notes">{t.notes}</h2>
                  <ul>
                    {notes.map((n) => (
                      <li>
                        <span class="muted">{n.actor} · {formatTime(n.at, lang, deps.timeZone)}{n.type === 'supervision_note' ? ` · ${t.supervision}` : ''}</span>
                        <div class="text">{String(n.data.text ?? n.data.note ?? '')}</div>
                      </li>
                    ))}
                  </ul>
                  <form method="post" action={action('note')}>
                    <Hidden />
                    <label for="note-text">{t.note}</label>
                    <p class="hint" id="note-hint">{t.noteHint}</p>
                    <textarea id="note-text" name="text" maxlength={MAX_NOTE} required aria-describedby="note-hint"></textarea>
                    <div><button type="submit" class="secondary">{t.addNote}</button></div>
                  </form>
                </section>
              ) : null}

              <section class="panel" aria-labelledby="h-timeline">
                <h2 id="h-timeline">{t.timeline}</h2>
                <ol class="timeline">
                  {events.map((e) => (
                    <li>
                      <time datetime={iso(e.at)}>{formatTime(e.at, lang, deps.timeZone)}</time> · <strong>{e.type}</strong> · {e.actor}
                      <EventDetail e={e} />
                    </li>
                  ))}
                </ol>
              </section>
            </div>

            <aside>
              <section class="panel" aria-labelledby="h-facts">
                <h2 id="h-facts">{t.summary}</h2>
                <dl class="facts">
                  <dt>{t.office}</dt>
                  <dd>{officeName(kase.officeId, lang)}</dd>
                  <dt>{t.category}</dt>
                  <dd>{kase.category ?? '—'}</dd>
                  <dt>{t.urgency}</dt>
                  <dd>{kase.urgency}</dd>
                  <dt>{t.channel}</dt>
                  <dd>{kase.channelId}</dd>
                  <dt>{t.deadline}</dt>
                  <dd>{kase.deadlineAt ? <time datetime={iso(kase.deadlineAt)}>{formatTime(kase.deadlineAt, lang, deps.timeZone)}</time> : '—'}</dd>
                  <dt>{t.assignee}</dt>
                  <dd>{kase.assigneeId ?? t.none}</dd>
                  <dt>{t.citizen}</dt>
                  <dd>
                    {s.contact ? (
                      <span id="contact">
                        {t.contactShown}: {kase.citizen.displayName ?? ''} {kase.citizen.id}
                        {kase.contact?.phone ? ` · ${kase.contact.phone}` : ''}
                        {kase.contact?.email ? ` · ${kase.contact.email}` : ''}
                        {kase.contact?.name ? ` · ${kase.contact.name}` : ''}
                      </span>
                    ) : (
                      <>
                        {masked.citizen.id}
                        {masked.contact?.phone ? ` · ${masked.contact.phone}` : ''}
                        {handlesCase(identity, kase) ? (
                          <form method="post" action={action('contact')}>
                            <Hidden />
                            <button type="submit" class="secondary">{t.showContact}</button>
                          </form>
                        ) : (
                          <p class="hint">{t.contactOnlyHandling}</p>
                        )}
                      </>
                    )}
                  </dd>
                </dl>
              </section>

              {routed ? (
                <section class="panel" aria-labelledby="h-routing">
                  <h2 id="h-routing">{t.routing}</h2>
                  <p>{String(routed.data.reason ?? '')}</p>
                  <p class="muted">
                    {String(routed.data.strategy ?? routed.actor)} · {typeof routed.data.confidence === 'number' ? routed.data.confidence.toFixed(2) : ''}
                  </p>
                </section>
              ) : null}

              <section class="panel" aria-labelledby="h-actions">
                <h2 id="h-actions">{t.actions}</h2>
                {can('status') ? (
                  <form method="post" action={action('status')}>
                    <Hidden />
                    <label for="new-status">{t.newStatus}</label>
                    <select id="new-status" name="status">
                      {nextStatuses(kase.status, identity.role ?? 'admin').map((st) => <option value={st}>{t.statuses[st]}</option>)}
                    </select>
                    <div><button type="submit" class="secondary">{t.changeStatus}</button></div>
                  </form>
                ) : null}
                {can('dispatch') && open && below.length ? (
                  <form method="post" action={action('dispatch')}>
                    <Hidden />
                    <label for="dispatch-to">{t.dispatchTo}</label>
                    <select id="dispatch-to" name="officeId">
                      {below.map((o) => <option value={o.id}>{officeName(o.id, lang)}</option>)}
                    </select>
                    <label for="dispatch-note">{t.note}</label>
                    <input type="text" id="dispatch-note" name="note" maxlength={MAX_NOTE} />
                    <div><button type="submit">{t.dispatch}</button></div>
                  </form>
                ) : null}
                {can('dispatch') && open ? (
                  <form method="post" action={action('transfer')}>
                    <Hidden />
                    <label for="transfer-to">{t.transferTo}</label>
                    <select id="transfer-to" name="officeId">
                      {offices.all.filter((o) => o.id !== kase.officeId).map((o) => <option value={o.id}>{officeName(o.id, lang)}</option>)}
                    </select>
                    <label for="transfer-reason">{t.reason}</label>
                    <input type="text" id="transfer-reason" name="reason" maxlength={MAX_NOTE} required />
                    <div><button type="submit" class="secondary">{t.transfer}</button></div>
                  </form>
                ) : null}
                {can('dispatch') && open ? (
                  <form method="post" action={action('return')}>
                    <Hidden />
                    <label for="return-reason">{t.reason}</label>
                    <select id="return-reason" name="reason">
                      {RETURN_REASONS.map((r) => <option value={r}>{t.returnReasons[r]}</option>)}
                    </select>
                    <label for="return-note">{t.note}</label>
                    <input type="text" id="return-note" name="note" maxlength={MAX_NOTE} />
                    <div><button type="submit" class="secondary">{t.returnCase}</button></div>
                  </form>
                ) : null}
                {can('dispatch') && office && office.staff.length ? (
                  <form method="post" action={action('assign')}>
                    <Hidden />
                    <label for="assign-to">{t.assignTo}</label>
                    <select id="assign-to" name="staffId">
                      <option value="">{t.byPolicy}</option>
                      {office.staff.map((p) => <option value={p.id} selected={kase.assigneeId === p.id}>{p.name}</option>)}
                    </select>
                    <div><button type="submit" class="secondary">{t.assign}</button></div>
                  </form>
                ) : null}
              </section>
            </aside>
          </div>
        </>
      ),
    })
  }

  app.get('/cases/:id', async (c) => {
    const kase = await scoped(c)
    if (!kase) return deps.refuse(c, 404, c.get('t').notFound)
    return show(c, kase, { notice: c.req.query('done') ? c.get('t').saved : undefined })
  })

  /** The bytes of an attachment of a case in scope; never a public URL. */
  app.get('/cases/:id/attachments/:attachmentId', async (c) => {
    const kase = await scoped(c)
    if (!kase) return c.text('Not found', 404)
    const wanted = c.req.param('attachmentId')
    const attachment = (await store.listMessages(kase.id)).flatMap((m) => m.attachments).find((a) => a.id === wanted)
    const bytes = attachment?.blobKey ? await deps.blobs.get(attachment.blobKey) : undefined
    if (!attachment || !bytes) return c.text('Not found', 404)
    // Only types a browser shows safely inline; anything else is a download.
    const inline = /^(image\/(png|jpeg|gif|webp)|audio\/[\w.+-]+)$/.test(attachment.contentType)
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
      'content-type': inline ? attachment.contentType : 'application/octet-stream',
      'content-disposition': `${inline ? 'inline' : 'attachment'}; filename*=UTF-8''${encodeURIComponent(attachment.filename ?? 'attachment')}`,
      'cache-control': 'private, no-store',
    })
  })

  /** One POST route per action: permission, scope, validation, then the same case action the API uses. */
  const post = <S extends z.ZodType>(
    name: string,
    permission: Parameters<ConsoleDeps['need']>[1],
    schema: S,
    field: string,
    act: (kase: Case, input: z.infer<S>, actor: string, c: Context<ConsoleEnv>) => Promise<ActionResult | Response>,
  ) =>
    app.post(`/cases/:id/${name}`, async (c) => {
      const denied = deps.need(c, permission)
      if (denied) return denied
      const kase = await scoped(c)
      if (!kase) return deps.refuse(c, 404, c.get('t').notFound)
      const form = await c.req.parseBody()
      const input = schema.safeParse(form)
      if (!input.success) {
        const t = c.get('t')
        const tooLong = input.error.issues.find((i) => i.code === 'too_big')
        const message = tooLong ? t.tooLong(Number((tooLong as { maximum?: number }).maximum ?? MAX_REPLY)) : input.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')
        return show(c, kase, { status: 400, error: message, field, draft: typeof form.text === 'string' ? form.text.slice(0, MAX_REPLY) : undefined })
      }
      const result = await act(kase, input.data, c.get('identity').actor, c)
      if (result instanceof Response) return result
      if (!result.ok) return show(c, kase, { status: result.status, error: result.message, field })
      // Moved out of the user's sight (transferred sideways): back to the list.
      const still = await scoped(c)
      return c.redirect(still ? `/console/cases/${encodeURIComponent(kase.id)}?done=1` : '/console/cases', 303)
    })

  const text = (max: number) => z.object({ text: z.string().trim().min(1).max(max) })
  const roleIn = (c: Context<ConsoleEnv>) => c.get('identity').role ?? 'admin'
  post('reply', 'reply', text(MAX_REPLY), 'reply-text', (k, i, actor, c) => deps.actions.reply(k.id, { text: i.text, actor, role: roleIn(c) }))
  post('note', 'note', text(MAX_NOTE), 'note-text', (k, i, actor) => deps.actions.note(k.id, { text: i.text, actor }))
  post('status', 'status', z.object({ status: CaseStatus }), 'new-status', (k, i, actor, c) => deps.actions.changeStatus(k.id, { status: i.status, actor, role: roleIn(c) }))
  post('dispatch', 'dispatch', z.object({ officeId: z.string().min(1), note: z.string().max(MAX_NOTE).optional() }), 'dispatch-to', (k, i, actor, c) =>
    deps.actions.dispatch(k.id, { officeId: i.officeId, note: i.note || undefined, actor, role: roleIn(c) }),
  )
  post('transfer', 'dispatch', z.object({ officeId: z.string().min(1), reason: z.string().trim().min(1).max(MAX_NOTE) }), 'transfer-reason', (k, i, actor, c) =>
    deps.actions.transfer(k.id, { officeId: i.officeId, reason: i.reason, actor, role: roleIn(c) }),
  )
  post('return', 'dispatch', z.object({ reason: z.enum(RETURN_REASONS), note: z.string().max(MAX_NOTE).optional() }), 'return-reason', (k, i, actor, c) =>
    deps.actions.returnCase(k.id, { reason: i.reason, note: i.note || undefined, actor, role: roleIn(c) }),
  )
  post('assign', 'dispatch', z.object({ staffId: z.string().max(100).optional() }), 'assign-to', (k, i, actor) =>
    deps.actions.assign(k.id, { staffId: i.staffId || undefined, actor }),
  )
  // 督办意见 through the lifecycle: the handling office is sent the note on its alert channel, and
  // a new deadline (in working days from now) moves the case's reminders and escalation.
  const SUPERVISE = z.object({ text: z.string().trim().min(1).max(MAX_NOTE), within: z.enum(['', '1', '3', '5']).default('') })
  post('supervise', 'supervise', SUPERVISE, 'supervise-text', async (k, i, actor, c) => {
    const own = c.get('identity').officeId
    const above = own && own !== k.officeId && deps.offices.covers(own, k.officeId) ? own : undefined
    const deadlineAt = i.within ? addDuration(deps.now(), `${i.within} working days`, deps.calendar) : undefined
    const result = await deps.lifecycle.supervise(k.id, {
      actor: { id: actor, role: roleIn(c) },
      note: i.text,
      ...(above ? { officeId: above } : {}),
      ...(deadlineAt !== undefined ? { deadlineAt } : {}),
    })
    if (result.ok) deps.wakeOutbox()
    return result.ok ? { ok: true, case: result.case } : { ok: false, status: result.status, code: result.code, message: result.message }
  })

  app.post('/cases/:id/contact', async (c) => {
    const kase = await scoped(c)
    if (!kase) return deps.refuse(c, 404, c.get('t').notFound)
    const identity = c.get('identity')
    if (!handlesCase(identity, kase)) return deps.refuse(c, 403, c.get('t').contactOnlyHandling)
    const at = deps.now()
    await store.applyCaseChange({ caseId: kase.id, at, events: [{ caseId: kase.id, at, type: 'contact_viewed', actor: identity.actor, public: false, data: { via: 'console' } }] })
    return show(c, kase, { contact: true })
  })
}

function EventDetail({ e }: { e: CaseEvent }) {
  const d = e.data
  const parts = [d.reason, d.note, d.text, d.officeName ?? d.to, d.staffId, d.from && d.to ? `${String(d.from)} → ${String(d.to)}` : undefined].filter((v) => typeof v === 'string' && v)
  return parts.length ? <div class="muted">{parts.join(' · ')}</div> : null
}
