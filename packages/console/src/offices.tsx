import type { Context, Hono } from 'hono'
import { changeOffice, SETTINGS_FIELDS, type Office, type OfficeSettingsChange } from '@intake/core'
import { ADMIN_DICTS } from './admin-i18n.ts'
import type { ConsoleDeps, ConsoleEnv } from './app.tsx'
import { formatTime, officeName } from './format.ts'
import { ErrorSummary } from './layout.tsx'

const URGENCIES = ['urgent', 'normal', 'complex'] as const
const CONTACT_FIELDS = ['phone', 'dutyPhone', 'email', 'address', 'alert'] as const

const text = (form: Record<string, unknown>, name: string, max = 200) => (typeof form[name] === 'string' ? (form[name] as string).trim().slice(0, max) : '')

/** `roads.urgent = 4h` lines ⇄ the policy's categories. A line that does not read so is an error, not dropped. */
function categoryLines(categories: NonNullable<Office['deadlines']>['categories']): string {
  return Object.entries(categories ?? {})
    .flatMap(([cat, p]) => Object.entries(p).map(([u, d]) => `${cat}.${u} = ${d}`))
    .join('\n')
}
function parseCategoryLines(lines: string): { ok: true; value: Record<string, Partial<Record<(typeof URGENCIES)[number], string>>> } | { ok: false } {
  const out: Record<string, Partial<Record<(typeof URGENCIES)[number], string>>> = {}
  for (const line of lines.split(/\r?\n/).map((l) => l.trim()).filter(Boolean)) {
    const m = /^([^.=\s]+)\.(urgent|normal|complex)\s*=\s*(.+)$/.exec(line)
    if (!m) return { ok: false }
    ;(out[m[1]!] ??= {})[m[2] as (typeof URGENCIES)[number]] = m[3]!.trim()
  }
  return { ok: true, value: out }
}

/**
 * Offices for administrators: each office of their subtree, and a page per office with three forms
 * — contacts, the duty roster, the deadline policy — each saved on its own, live (the next case
 * meets it), as an `office_changed` account event with the values before and after.
 */
export function officeRoutes(app: Hono<ConsoleEnv>, deps: ConsoleDeps): void {
  const visible = (c: Context<ConsoleEnv>, id: string) => {
    const scope = c.get('identity').scope
    return deps.offices.get(id) !== undefined && (!scope || scope.officeIds.includes(id))
  }

  app.get('/offices', (c) => {
    const denied = deps.need(c, 'offices')
    if (denied) return denied
    const a = ADMIN_DICTS[c.get('lang')]
    const lang = c.get('lang')
    const offices = deps.offices.all.filter((o) => visible(c, o.id))
    return deps.page(c, {
      title: a.offices,
      section: 'offices',
      body: (
        <>
          <h1>{a.offices}</h1>
          <p>{a.officesIntro}</p>
          <table class="cases">
            <caption class="skip">{a.offices}</caption>
            <thead>
              <tr><th scope="col">{c.get('t').office}</th><th scope="col">{a.dutyPhone}</th><th scope="col">{a.onDuty}</th><th scope="col">{a.state}</th></tr>
            </thead>
            <tbody>
              {offices.map((o) => {
                const live = deps.offices.settings(o.id)
                return (
                  <tr>
                    <td>{'—'.repeat(deps.offices.depth(o.id)) + ' '}<a href={`/console/offices/${encodeURIComponent(o.id)}`}>{officeName(deps.offices, o.id, lang)}</a></td>
                    <td>{o.contact.dutyPhone ?? o.contact.phone ?? '—'}</td>
                    <td>{o.staff.filter((s) => s.onDuty).length} / {o.staff.length}</td>
                    <td>{live ? a.changedLive(live.updatedBy) : a.fromFile}</td>
                  </tr>
                )
              })}
            </tbody>
          </table>
        </>
      ),
    })
  })

  const render = async (c: Context<ConsoleEnv>, id: string, state: { status?: number; error?: { message: string; field: string }; done?: boolean } = {}) => {
    const t = c.get('t')
    const a = ADMIN_DICTS[c.get('lang')]
    const lang = c.get('lang')
    const csrf = c.get('session').csrfToken
    const office = deps.offices.get(id)!
    const live = deps.offices.settings(id)
    const duty = await deps.store.listDuty()
    const own = office.deadlines ?? {}
    const invalid = (name: string) => (state.error?.field === name ? 'true' : undefined)
    const Csrf = () => <input type="hidden" name="_csrf" value={csrf} />
    /** For a field changed live: one button back to what the offices file says. */
    const Revert = ({ field }: { field: (typeof SETTINGS_FIELDS)[number] }) =>
      live?.[field] !== undefined ? (
        <form method="post" action={`/console/offices/${encodeURIComponent(id)}/revert`} class="revert">
          <Csrf />
          <input type="hidden" name="field" value={field} />
          <p class="hint" id={`revert-${field}-hint`}>{a.revertHint}</p>
          <button type="submit" class="secondary" aria-describedby={`revert-${field}-hint`}>{a.revert}</button>
        </form>
      ) : null
    return deps.page(c, {
      title: `${a.offices} · ${officeName(deps.offices, id, lang)}`,
      section: 'offices',
      status: state.status,
      body: (
        <>
          <p><a href="/console/offices">{a.offices}</a></p>
          <h1>{officeName(deps.offices, id, lang)}</h1>
          <p class="muted">{live ? `${a.changedLive(live.updatedBy)} · ${formatTime(live.updatedAt, lang, deps.timeZone)}` : a.fromFile}</p>
          <ErrorSummary message={state.error?.message} field={state.error?.field} />
          {state.done || c.req.query('done') ? <p class="notice" role="status">{t.saved}</p> : null}

          <section class="panel" aria-labelledby="h-contact">
            <h2 id="h-contact">{a.contact}</h2>
            <form method="post" action={`/console/offices/${encodeURIComponent(id)}/contact`}>
              <Csrf />
              {CONTACT_FIELDS.map((f) => (
                <>
                  <label for={`contact-${f}`}>{a[f]}</label>
                  {f === 'alert' ? <p class="hint" id="alert-hint">{a.alertHint}</p> : null}
                  <input type="text" id={`contact-${f}`} name={f} value={office.contact[f] ?? ''} aria-describedby={f === 'alert' ? 'alert-hint' : undefined} />
                </>
              ))}
              <div><button type="submit">{a.save}</button></div>
            </form>
            <Revert field="contact" />
          </section>

          <section class="panel" aria-labelledby="h-duty">
            <h2 id="h-duty">{a.duty}</h2>
            <p class="hint">{a.dutyIntro}</p>
            <form method="post" action={`/console/offices/${encodeURIComponent(id)}/duty`}>
              <Csrf />
              <table>
                <caption class="skip">{a.duty}</caption>
                <thead><tr><th scope="col">{a.staffId}</th><th scope="col">{a.name}</th><th scope="col">{a.onDuty}</th><th scope="col">{a.remove}</th></tr></thead>
                <tbody>
                  {office.staff.map((s, i) => (
                    <tr>
                      <td>{s.id}<input type="hidden" name={`id_${i}`} value={s.id} /></td>
                      <td><input type="text" name={`name_${i}`} value={s.name} aria-label={`${a.name} ${s.id}`} required /></td>
                      <td><input type="checkbox" name={`onDuty_${i}`} value="1" checked={duty[s.id] ?? s.onDuty} aria-label={`${a.onDuty} ${s.name}`} /></td>
                      <td><input type="checkbox" name={`remove_${i}`} value="1" aria-label={`${a.remove} ${s.name}`} /></td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <fieldset>
                <legend>{a.addToRoster}</legend>
                <label for="new-id">{a.staffId}</label>
                <input type="text" id="new-id" name="newId" aria-invalid={invalid('new-id')} />
                <label for="new-name">{a.name}</label>
                <input type="text" id="new-name" name="newName" />
              </fieldset>
              <div><button type="submit">{a.save}</button></div>
            </form>
            <Revert field="staff" />
          </section>

          <section class="panel" aria-labelledby="h-deadlines">
            <h2 id="h-deadlines">{a.deadlines}</h2>
            <p class="hint">{a.deadlinesIntro}</p>
            <form method="post" action={`/console/offices/${encodeURIComponent(id)}/deadlines`}>
              <Csrf />
              {URGENCIES.map((u) => (
                <>
                  <label for={`deadline-${u}`}>{a.urgencies[u]}</label>
                  <input type="text" id={`deadline-${u}`} name={u} value={own[u] ?? ''} aria-invalid={invalid(`deadline-${u}`)} />
                </>
              ))}
              <label for="deadline-accept">{a.accept}</label>
              <input type="text" id="deadline-accept" name="accept" value={own.accept ?? ''} aria-invalid={invalid('deadline-accept')} />
              <label for="deadline-categories">{a.categoryDeadlines}</label>
              <p class="hint" id="categories-hint">{a.categoryHint}</p>
              <textarea id="deadline-categories" name="categories" aria-describedby="categories-hint" aria-invalid={invalid('deadline-categories')}>{categoryLines(own.categories)}</textarea>
              <div><button type="submit">{a.save}</button></div>
            </form>
            <Revert field="deadlines" />
          </section>
        </>
      ),
    })
  }

  app.get('/offices/:id', (c) => {
    const denied = deps.need(c, 'offices')
    if (denied) return denied
    const id = c.req.param('id')
    if (!visible(c, id)) return deps.refuse(c, 404, ADMIN_DICTS[c.get('lang')].errors.unknown_office!)
    return render(c, id)
  })

  /** Validate a form into one field's change, apply it, answer the page (303 on success). */
  const save = (path: string, read: (form: Record<string, unknown>, office: Office) => { ok: true; change: OfficeSettingsChange } | { ok: false; field: string; code: string }) =>
    app.post(`/offices/:id/${path}`, async (c) => {
      const denied = deps.need(c, 'offices')
      if (denied) return denied
      const a = ADMIN_DICTS[c.get('lang')]
      const id = c.req.param('id')
      if (!visible(c, id)) return deps.refuse(c, 404, a.errors.unknown_office!)
      const read_ = read(await c.req.parseBody(), deps.offices.get(id)!)
      if (!read_.ok) return render(c, id, { status: 400, error: { message: a.errors[read_.code] ?? a.errors.invalid!, field: read_.field } })
      const result = await changeOffice({ store: deps.store, offices: deps.offices }, id, read_.change, c.get('identity').actor, deps.now())
      if (!result.ok) {
        const field = result.code === 'invalid_deadline' ? `deadline-${/deadlines\.(urgent|normal|complex|accept)/.exec(result.message)?.[1] ?? 'categories'}` : path
        return render(c, id, { status: result.code === 'unknown_office' ? 404 : 400, error: { message: `${a.errors[result.code] ?? a.errors.invalid!} ${result.message}`, field } })
      }
      return c.redirect(`/console/offices/${encodeURIComponent(id)}?done=1`, 303)
    })

  // Back to the offices file: the live value of one field goes (an office_changed event naming it in `reverted`).
  save('revert', (form) => {
    const field = SETTINGS_FIELDS.find((f) => f === form.field)
    return field ? { ok: true, change: { [field]: null } } : { ok: false, field: 'h-contact', code: 'invalid' }
  })

  save('contact', (form) => {
    const contact = Object.fromEntries(CONTACT_FIELDS.map((f) => [f, text(form, f)]).filter(([, v]) => v))
    return { ok: true, change: { contact } }
  })

  save('duty', (form, office) => {
    const staff: Array<{ id: string; name: string; onDuty: boolean }> = []
    for (let i = 0; i < office.staff.length + 50 && typeof form[`id_${i}`] === 'string'; i++) {
      if (form[`remove_${i}`]) continue
      const name = text(form, `name_${i}`)
      if (!name) return { ok: false, field: 'h-duty', code: 'invalid' }
      staff.push({ id: text(form, `id_${i}`, 100), name, onDuty: form[`onDuty_${i}`] === '1' })
    }
    const newId = text(form, 'newId', 100)
    const newName = text(form, 'newName')
    if (newId || newName) {
      if (!newId || !newName) return { ok: false, field: 'new-id', code: 'invalid' }
      staff.push({ id: newId, name: newName, onDuty: true })
    }
    return { ok: true, change: { staff } }
  })

  save('deadlines', (form) => {
    const categories = parseCategoryLines(text(form, 'categories', 4000))
    if (!categories.ok) return { ok: false, field: 'deadline-categories', code: 'invalid_deadline' }
    const deadlines = Object.fromEntries([...URGENCIES, 'accept'].map((k) => [k, text(form, k, 100)]).filter(([, v]) => v))
    return { ok: true, change: { deadlines: { ...deadlines, ...(Object.keys(categories.value).length ? { categories: categories.value } : {}) } } }
  })
}
