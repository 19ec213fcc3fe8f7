import type { Context, Hono } from 'hono'
import { handlesCase, localText, maskCase, maskMessage, OPEN_STATUSES, pendingExtension, type Case, type CaseEvent, type ClusterView } from '@intake/core'
import type { ConsoleDeps, ConsoleEnv } from './app.tsx'
import { caseFormRoutes, type Shown, type ShowCase } from './case-forms.tsx'
import { ClusterPanel, MAX_NOTE, MAX_REPLY, returnsTo, stepsFor, StepsPanel } from './case-steps.tsx'
import { ErrorSummary } from './layout.tsx'
import { formatTime, iso } from './format.ts'
import { parseReplyTemplates, templatesForCase } from './reply-templates.ts'


/** Renders the case page (again, with a message or a draft), for the form routes. */

/**
 * One case: the conversation on every channel in order, attachments through an authorised route,
 * the routing decision, the timeline, deadlines, notes, the reply box and the actions this role may
 * take. Contact details only for the handling office, on request, each request an event.
 */
export function casePageRoutes(app: Hono<ConsoleEnv>, deps: ConsoleDeps): void {
  const { store, offices } = deps
  const templates = parseReplyTemplates(deps.options.replyTemplates, offices)
  const officeName = (id: string, lang: string) => offices.get(id)?.names[lang === 'en' ? 'en' : 'zh-CN'] ?? offices.get(id)?.name ?? id

  /** The case if it is in the user's scope; undefined means 404, whether it exists or not. */
  const scoped = (c: Context<ConsoleEnv>) => store.getCase(c.req.param('id') ?? '', c.get('identity').scope)
  /** The case's cluster with only the members this user may see (another office's case is in no list). */
  const inScopeCluster = async (c: Context<ConsoleEnv>, clusterId: string): Promise<ClusterView | undefined> => {
    const view = await store.getCluster(clusterId)
    const scope = c.get('identity').scope
    return view && { ...view, members: view.members.filter((m) => !scope || scope.officeIds.includes(m.officeId)) }
  }

  const show: ShowCase = async (c, kase, s = {}) => {
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
    const pending = pendingExtension(events)
    const steps = stepsFor(identity, kase, deps, pending !== undefined)
    const canAssign = can('dispatch') && open
    const users = canAssign ? (await store.listUsers({ officeIds: [kase.officeId] })).filter((u) => !u.disabled && u.officeId === kase.officeId) : []
    const assignable = [...(office?.staff ?? []).map((p) => ({ id: p.id, name: p.name })), ...users.filter((u) => !office?.staff.some((p) => p.id === u.id)).map((u) => ({ id: u.id, name: u.name }))]
    const cluster = kase.clusterId ? await inScopeCluster(c, kase.clusterId) : undefined
    const offered = templatesForCase(templates, kase, offices)

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
                    {offered.length ? (
                      <div class="template-pick">
                        <label for="reply-template">{t.template}</label>
                        <p class="hint" id="template-hint">{t.templateHint}</p>
                        <select id="reply-template" name="template" aria-describedby="template-hint">
                          <option value="">{t.noTemplate}</option>
                          {offered.map((tpl) => (
                            <option value={tpl.id} selected={s.templateId === tpl.id}>
                              {localText(tpl.title, lang)}
                            </option>
                          ))}
                        </select>
                        {/* Without script: the form comes back with the template's text in the box. */}
                        <button type="submit" name="insert" value="1" formnovalidate class="secondary">
                          {t.insertTemplate}
                        </button>
                      </div>
                    ) : null}
                    <label for="reply-text">{t.replyText}</label>
                    <p class="hint" id="reply-hint">{t.replyHint(kase.channelId)}</p>
                    <textarea id="reply-text" name="text" maxlength={MAX_REPLY} required aria-describedby="reply-hint" autofocus={s.templateId ? true : undefined}>{s.field === 'reply-text' ? s.draft : ''}</textarea>
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

              <StepsPanel
                t={t}
                lang={lang}
                kase={kase}
                steps={steps}
                action={action}
                csrf={csrf}
                officeName={(id) => officeName(id, lang)}
                below={below}
                others={offices.all.filter((o) => o.id !== kase.officeId)}
                returnTo={returnsTo(events, kase)}
                assignable={assignable}
                canAssign={canAssign}
                pending={pending}
                now={now}
                calendar={deps.calendar}
                timeZone={deps.timeZone}
              />
              <ClusterPanel t={t} kase={kase} view={cluster} canLink={can('dispatch')} action={action} csrf={csrf} officeName={(id) => officeName(id, lang)} />
            </aside>
          </div>
        </>
      ),
    })
  }

  app.get('/cases/:id', async (c) => {
    const kase = await scoped(c)
    if (!kase) return deps.refuse(c, 404, c.get('t').notFound)
    const t = c.get('t')
    const done = c.req.query('done') ? (t.notices[c.req.query('notice') ?? ''] ?? t.saved) : undefined
    return show(c, kase, { notice: done })
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

  caseFormRoutes(app, deps, { show, scoped, templates })

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
