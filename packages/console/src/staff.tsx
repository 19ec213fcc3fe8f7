import type { Context, Hono } from 'hono'
import { AccountError, addUser, randomPassword, resetPassword, Role, setUserDisabled, type StaffUser } from '@intake/core'
import { ADMIN_DICTS } from './admin-i18n.ts'
import type { ConsoleDeps, ConsoleEnv } from './app.tsx'
import { officeName } from './format.ts'
import { ErrorSummary } from './layout.tsx'

interface StaffPageState {
  status?: number
  /** A notice (added, reset), with the one-time password when the server made or was given one. */
  notice?: string
  error?: { message: string; field: string }
  /** The add form as it was sent, when it is shown again with an error. */
  form?: Record<string, string>
}

const field = (form: Record<string, unknown>, name: string, max = 200) => (typeof form[name] === 'string' ? (form[name] as string).trim().slice(0, max) : '')

/**
 * Staff accounts for administrators: the accounts of their subtree, an add form, disable or enable,
 * reset a password. A password the server makes is shown once on the answer page (never in a URL,
 * never stored but as its hash). Every change is an account event with the signed-in administrator.
 */
export function staffRoutes(app: Hono<ConsoleEnv>, deps: ConsoleDeps): void {
  const visibleOffices = (c: Context<ConsoleEnv>) => {
    const scope = c.get('identity').scope
    return deps.offices.all.filter((o) => !scope || scope.officeIds.includes(o.id))
  }
  const inScope = async (c: Context<ConsoleEnv>): Promise<StaffUser | undefined> => {
    const user = await deps.store.getUser(c.req.param('id') ?? '')
    const scope = c.get('identity').scope
    return user && (!scope || scope.officeIds.includes(user.officeId)) ? user : undefined
  }

  const render = async (c: Context<ConsoleEnv>, state: StaffPageState = {}) => {
    const t = c.get('t')
    const a = ADMIN_DICTS[c.get('lang')]
    const lang = c.get('lang')
    const csrf = c.get('session').csrfToken
    const users = await deps.store.listUsers(c.get('identity').scope)
    const form = state.form ?? {}
    const invalid = (name: string) => (state.error?.field === name ? 'true' : undefined)
    return deps.page(c, {
      title: a.staff,
      section: 'staff',
      status: state.status,
      body: (
        <>
          <h1>{a.staff}</h1>
          <p>{a.staffIntro}</p>
          <ErrorSummary message={state.error?.message} field={state.error?.field} />
          {state.notice ? <p class="notice" role="status" id="staff-notice">{state.notice}</p> : null}
          {c.req.query('done') && !state.notice ? <p class="notice" role="status">{t.saved}</p> : null}
          <table class="cases" id="staff">
            <caption class="skip">{a.staff}</caption>
            <thead>
              <tr>
                <th scope="col">{t.login}</th>
                <th scope="col">{a.name}</th>
                <th scope="col">{t.office}</th>
                <th scope="col">{a.role}</th>
                <th scope="col">{a.state}</th>
                <th scope="col">{t.actions}</th>
              </tr>
            </thead>
            <tbody>
              {users.map((u) => (
                <tr>
                  <td>{u.login}</td>
                  <td>{u.name}</td>
                  <td>{officeName(deps.offices, u.officeId, lang)}</td>
                  <td>{a.roles[u.role] ?? u.role}</td>
                  <td>{u.disabled ? <span class="badge overdue">{a.disabledState}</span> : a.active}</td>
                  <td>
                    <form method="post" action={`/console/staff/${encodeURIComponent(u.id)}/${u.disabled ? 'enable' : 'disable'}`} class="inline">
                      <input type="hidden" name="_csrf" value={csrf} />
                      <button type="submit" class="secondary" aria-label={`${u.disabled ? a.enable : a.disable} ${u.login}`}>{u.disabled ? a.enable : a.disable}</button>
                    </form>{' '}
                    <details>
                      <summary>{a.resetPassword}</summary>
                      <form method="post" action={`/console/staff/${encodeURIComponent(u.id)}/reset-password`}>
                        <input type="hidden" name="_csrf" value={csrf} />
                        <label for={`pw-${u.id}`}>{a.newPassword} ({u.login})</label>
                        <p class="hint" id={`pw-hint-${u.id}`}>{a.newPasswordHint}</p>
                        <input type="password" id={`pw-${u.id}`} name="password" autocomplete="new-password" aria-describedby={`pw-hint-${u.id}`} />
                        <div><button type="submit" class="secondary" aria-label={`${a.resetPassword} ${u.login}`}>{a.resetPassword}</button></div>
                      </form>
                    </details>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2 id="add">{a.addStaff}</h2>
          <form method="post" action="/console/staff" aria-labelledby="add">
            <input type="hidden" name="_csrf" value={csrf} />
            <label for="login">{t.login}</label>
            <input type="text" id="login" name="login" required autocomplete="off" value={form.login ?? ''} aria-invalid={invalid('login')} />
            <label for="name">{a.name}</label>
            <input type="text" id="name" name="name" required value={form.name ?? ''} aria-invalid={invalid('name')} />
            <label for="officeId">{t.office}</label>
            <select id="officeId" name="officeId" aria-invalid={invalid('officeId')}>
              {visibleOffices(c).map((o) => <option value={o.id} selected={form.officeId === o.id}>{officeName(deps.offices, o.id, lang)}</option>)}
            </select>
            <label for="role">{a.role}</label>
            <select id="role" name="role">
              {Role.options.map((r) => <option value={r} selected={form.role === r}>{a.roles[r]}</option>)}
            </select>
            <label for="password">{a.newPassword}</label>
            <p class="hint" id="password-hint">{a.newPasswordHint}</p>
            <input type="password" id="password" name="password" autocomplete="new-password" aria-describedby="password-hint" aria-invalid={invalid('password')} />
            <div><button type="submit">{a.add}</button></div>
          </form>
        </>
      ),
    })
  }

  app.get('/staff', (c) => deps.need(c, 'staff') ?? render(c))

  app.post('/staff', async (c) => {
    const denied = deps.need(c, 'staff')
    if (denied) return denied
    const a = ADMIN_DICTS[c.get('lang')]
    const body = await c.req.parseBody()
    const form = { login: field(body, 'login'), name: field(body, 'name'), officeId: field(body, 'officeId', 100), role: field(body, 'role', 20) }
    const role = Role.safeParse(form.role)
    if (form.login.length < 2) return render(c, { status: 400, form, error: { message: a.errors.invalid!, field: 'login' } })
    if (!form.name) return render(c, { status: 400, form, error: { message: a.errors.invalid!, field: 'name' } })
    if (!role.success) return render(c, { status: 400, form, error: { message: a.errors.invalid!, field: 'role' } })
    // An office outside the administrator's subtree is one they cannot name.
    if (!visibleOffices(c).some((o) => o.id === form.officeId)) return render(c, { status: 404, form, error: { message: a.errors.unknown_office!, field: 'officeId' } })
    const given = typeof body.password === 'string' ? body.password.slice(0, 201) : ''
    const password = given || randomPassword()
    try {
      const user = await addUser(deps.store, deps.offices, { ...form, role: role.data, password }, c.get('identity').actor, deps.now())
      return render(c, { status: 201, notice: `${a.added(user.login)} ${given ? '' : a.oneTimePassword(user.login, password)}`.trim() })
    } catch (err) {
      if (!(err instanceof AccountError)) throw err
      const status = err.code === 'login_taken' ? 409 : err.code === 'unknown_office' ? 404 : 400
      return render(c, { status, form, error: { message: a.errors[err.code] ?? err.message, field: err.code === 'weak_password' ? 'password' : err.code === 'unknown_office' ? 'officeId' : 'login' } })
    }
  })

  for (const [path, disabled] of [['disable', true], ['enable', false]] as const) {
    app.post(`/staff/:id/${path}`, async (c) => {
      const denied = deps.need(c, 'staff')
      if (denied) return denied
      const user = await inScope(c)
      if (!user) return deps.refuse(c, 404, ADMIN_DICTS[c.get('lang')].errors.unknown_user!)
      await setUserDisabled(deps.store, user.id, disabled, c.get('identity').actor, deps.now())
      return c.redirect('/console/staff?done=1', 303)
    })
  }

  app.post('/staff/:id/reset-password', async (c) => {
    const denied = deps.need(c, 'staff')
    if (denied) return denied
    const a = ADMIN_DICTS[c.get('lang')]
    const user = await inScope(c)
    if (!user) return deps.refuse(c, 404, a.errors.unknown_user!)
    const body = await c.req.parseBody()
    const given = typeof body.password === 'string' ? body.password.slice(0, 201) : ''
    const password = given || randomPassword()
    try {
      await resetPassword(deps.store, user.id, password, c.get('identity').actor, deps.now())
    } catch (err) {
      if (err instanceof AccountError && err.code === 'weak_password') return render(c, { status: 400, error: { message: a.errors.weak_password!, field: `pw-${user.id}` } })
      throw err
    }
    return render(c, { notice: `${a.passwordReset(user.login)} ${given ? '' : a.oneTimePassword(user.login, password)}`.trim() })
  })
}
