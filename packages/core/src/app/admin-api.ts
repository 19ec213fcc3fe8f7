import type { Context, Hono } from 'hono'
import { z } from 'zod'
import type { Store } from '../contracts/store.ts'
import { AccountError, addUser, resetPassword, setUserDisabled } from '../access/accounts.ts'
import type { Identity } from '../access/identity.ts'
import type { StaffUser } from '../access/model.ts'
import { randomPassword } from '../access/passwords.ts'
import { Role, type Permission } from '../access/roles.ts'
import type { LiveOfficeDirectory } from '../offices/live-directory.ts'
import { changeOffice } from '../offices/office-changes.ts'
import { OfficeSettingsChange } from '../offices/settings.ts'

type Env = { Variables: { identity: Identity } }

export interface AdminApiDeps {
  store: Store
  offices: LiveOfficeDirectory
  now: () => number
  jsonBody(c: Context): Promise<{ ok: true; value: unknown } | { ok: false; response: Response }>
  invalid(c: Context, error: z.ZodError): Response
  forbidden(c: Context<Env>, permission: Permission): Response | undefined
}

export const NewUserBody = z.object({ login: z.string().trim().min(2).max(200), name: z.string().trim().min(1).max(200), officeId: z.string().min(1), role: Role, password: z.string().min(1).max(200) }).strict()
/** Without `password`, a random one is made and answered once. */
export const PasswordResetBody = z.object({ password: z.string().min(1).max(200).optional() }).strict()

const withoutHash = ({ passwordHash: _h, ...user }: StaffUser) => user
const notFound = (c: Context, what: string) => c.json({ error: { code: 'not_found', message: `${what} not found` } }, 404)
const accountError = (c: Context, err: AccountError) =>
  c.json({ error: { code: err.code, message: err.message } }, err.code === 'unknown_office' ? 422 : err.code === 'login_taken' ? 409 : err.code === 'unknown_user' ? 404 : 400)

/**
 * The administrators' API, live (no restart): staff accounts under /users (add, disable, enable,
 * reset a password) and an office's contacts, duty roster and deadline policy under /offices/:id.
 * Every change is an account event naming the token's identity. Administrators of an office manage
 * only its subtree; the deployment's API keys manage every office. Office leads manage no accounts.
 */
export function mountAdminRoutes(api: Hono<Env>, deps: AdminApiDeps): void {
  const { store, offices, now, forbidden } = deps
  const visible = (c: Context<Env>, officeId: string) => {
    const scope = c.get('identity').scope
    return offices.get(officeId) !== undefined && (!scope || scope.officeIds.includes(officeId))
  }
  /** An account inside the caller's subtree, or undefined (outside it, it does not exist for them). */
  const userInScope = async (c: Context<Env>) => {
    const user = await store.getUser(c.req.param('id') ?? '')
    return user && visible(c, user.officeId) ? user : undefined
  }

  api.get('/users', async (c) => {
    const denied = forbidden(c, 'staff')
    if (denied) return denied
    return c.json({ users: (await store.listUsers(c.get('identity').scope)).map(withoutHash) })
  })

  api.post('/users', async (c) => {
    const denied = forbidden(c, 'staff')
    if (denied) return denied
    const body = await deps.jsonBody(c)
    if (!body.ok) return body.response
    const input = NewUserBody.safeParse(body.value)
    if (!input.success) return deps.invalid(c, input.error)
    const scope = c.get('identity').scope
    if (scope && !scope.officeIds.includes(input.data.officeId)) return notFound(c, 'office')
    try {
      return c.json(withoutHash(await addUser(store, offices, input.data, c.get('identity').actor, now())), 201)
    } catch (err) {
      if (err instanceof AccountError) return accountError(c, err)
      throw err
    }
  })

  for (const [path, disabled] of [['disable', true], ['enable', false]] as const) {
    api.post(`/users/:id/${path}`, async (c) => {
      const denied = forbidden(c, 'staff')
      if (denied) return denied
      const user = await userInScope(c)
      if (!user) return notFound(c, 'user')
      return c.json(withoutHash(await setUserDisabled(store, user.id, disabled, c.get('identity').actor, now())))
    })
  }

  api.post('/users/:id/reset-password', async (c) => {
    const denied = forbidden(c, 'staff')
    if (denied) return denied
    const user = await userInScope(c)
    if (!user) return notFound(c, 'user')
    const body = await deps.jsonBody(c)
    if (!body.ok) return body.response
    const input = PasswordResetBody.safeParse(body.value)
    if (!input.success) return deps.invalid(c, input.error)
    const password = input.data.password ?? randomPassword()
    try {
      const changed = await resetPassword(store, user.id, password, c.get('identity').actor, now())
      // A password the server made is answered this once and kept nowhere but as its hash.
      return c.json({ user: withoutHash(changed), ...(input.data.password ? {} : { password }) })
    } catch (err) {
      if (err instanceof AccountError) return accountError(c, err)
      throw err
    }
  })

  api.get('/offices/:id', (c) => {
    const id = c.req.param('id')
    if (!visible(c, id)) return notFound(c, 'office')
    return c.json({ office: offices.get(id), live: offices.settings(id) ?? null })
  })

  api.patch('/offices/:id', async (c) => {
    const denied = forbidden(c, 'offices')
    if (denied) return denied
    const id = c.req.param('id')
    if (!visible(c, id)) return notFound(c, 'office')
    const body = await deps.jsonBody(c)
    if (!body.ok) return body.response
    const input = OfficeSettingsChange.safeParse(body.value)
    if (!input.success) return deps.invalid(c, input.error)
    const result = await changeOffice({ store, offices }, id, input.data, c.get('identity').actor, now())
    if (!result.ok) return c.json({ error: { code: result.code, message: result.message } }, result.code === 'unknown_office' ? 404 : 400)
    return c.json({ office: result.office, live: result.settings })
  })
}
