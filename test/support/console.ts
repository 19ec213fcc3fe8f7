import { addUser, issueToken, type Role } from '@intake/core'
import { staffConsole, type StaffConsoleOptions } from '@intake/console'
import { BASE } from './gateway.ts'
import { smsGateway, type SmsGateway } from './twilio-gateway.ts'

export const STAFF_PASSWORD = 'demo-password-2026'

/** The demo's staff for the console tests: two counties, a township below one of them, their leads, a supervisor. */
export const STAFF: Array<{ login: string; name: string; officeId: string; role: Role }> = [
  { login: 'jiashi.worker', name: '阿依努尔', officeId: 'jiashi', role: 'caseworker' },
  { login: 'jiashi.lead', name: '王建华', officeId: 'jiashi', role: 'lead' },
  { login: 'bairen.worker', name: '买买提江', officeId: 'jiashi-bairen', role: 'caseworker' },
  { login: 'shule.worker', name: '李娜', officeId: 'shule', role: 'caseworker' },
  { login: 'kashgar.supervisor', name: '张强', officeId: 'kashgar', role: 'supervisor' },
]

export interface ConsoleGateway extends SmsGateway {
  /** A signed-in browser-less client: cookies kept, the session's CSRF token read from the pages. */
  signIn(login: string): Promise<ConsoleClient>
  tokens: Record<string, string>
}

export interface ConsoleClient {
  cookie: string
  csrf: string
  get(path: string): Promise<Response>
  post(path: string, fields: Record<string, string>): Promise<Response>
}

/** The SMS demo with the console mounted and the staff above (each with an API token). */
export async function consoleGateway(options: StaffConsoleOptions = {}, opts: { now?: () => number } = {}): Promise<ConsoleGateway> {
  const gw = await smsGateway({}, opts, { console: staffConsole(options) })
  const tokens: Record<string, string> = {}
  for (const s of STAFF) {
    await addUser(gw.intake.store, gw.intake.offices, { ...s, password: STAFF_PASSWORD }, 'test', 1)
    tokens[s.login] = (await issueToken(gw.intake.store, { userId: s.login }, 'test', 1, `t-${s.login}`)).secret
  }
  const app = gw.intake.app
  return {
    ...gw,
    tokens,
    signIn: (login) => signIn(app, login),
  }
}

/** Sign in to the console mounted on `app` as one of the staff (password STAFF_PASSWORD). */
export async function signIn(app: { request(url: string, init?: RequestInit): Response | Promise<Response> }, login: string): Promise<ConsoleClient> {
  const first = await app.request(`${BASE}/console/sign-in`)
  const pre = cookiesOf(first)
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await first.text())![1]!
  const res = await app.request(`${BASE}/console/sign-in`, {
    method: 'POST',
    headers: { cookie: pre, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, login, password: STAFF_PASSWORD, next: '/console/cases' }),
  })
  if (res.status !== 303) throw new Error(`sign-in of ${login} answered ${res.status}`)
  const cookie = cookiesOf(res)
  const client: ConsoleClient = {
    cookie,
    csrf: '',
    get: (path) => Promise.resolve(app.request(`${BASE}${path}`, { headers: { cookie } })),
    post: (path, fields) =>
      Promise.resolve(
        app.request(`${BASE}${path}`, {
          method: 'POST',
          headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams(fields),
        }),
      ),
  }
  const page = await (await client.get('/console/cases')).text()
  client.csrf = /name="_csrf" value="([^"]+)"/.exec(page)![1]!
  return client
}

function cookiesOf(res: Response): string {
  return res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .join('; ')
}
