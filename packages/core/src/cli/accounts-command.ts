import { addUser, AccountError, issueToken, resetPassword, setUserDisabled } from '../access/accounts.ts'
import { randomPassword } from '../access/passwords.ts'
import { IntegrationScope, Role } from '../access/roles.ts'
import type { Intake } from '../intake.ts'

export interface AccountArgs {
  positionals: string[]
  login?: string
  name?: string
  office?: string
  role?: string
  password?: string
  user?: string
  integration?: string
  scopes?: string
}

/** What the CLI records as the actor of an account change: the operator at the machine. */
const CLI_ACTOR = `cli:${process.env.SUDO_USER ?? process.env.USER ?? 'operator'}`

/**
 * `intake user add|disable|enable|reset-password` and `intake token add`. A password not given is
 * generated and printed once.
 */
export async function accountCommand(command: 'user' | 'token', intake: Intake, args: AccountArgs): Promise<number> {
  const [sub, target] = args.positionals
  const now = Date.now()
  await intake.store.migrate()
  await intake.store.saveOffices(intake.config.offices)
  try {
    if (command === 'user' && sub === 'add') {
      const role = Role.safeParse(args.role)
      if (!args.login || !args.name || !args.office || !role.success) {
        console.error(`intake user add needs --login, --name, --office and --role (${Role.options.join(' | ')})`)
        return 2
      }
      const password = args.password ?? randomPassword()
      const user = await addUser(intake.store, intake.offices, { login: args.login, name: args.name, officeId: args.office, role: role.data, password }, CLI_ACTOR, now)
      console.log(`added ${user.role} ${user.login} (${user.name}) at ${user.officeId}${args.password ? '' : `; password: ${password}`}`)
      return 0
    }
    if (command === 'user' && (sub === 'disable' || sub === 'enable') && target) {
      const user = await setUserDisabled(intake.store, target, sub === 'disable', CLI_ACTOR, now)
      console.log(`${user.login} is ${user.disabled ? 'disabled; their sessions are ended and their tokens refused' : 'enabled'}`)
      return 0
    }
    if (command === 'user' && sub === 'reset-password' && target) {
      const password = args.password ?? randomPassword()
      const user = await resetPassword(intake.store, target, password, CLI_ACTOR, now)
      console.log(`${user.login}: password reset${args.password ? '' : `; new password: ${password}`}; their sessions are ended`)
      return 0
    }
    if (command === 'token' && sub === 'add') {
      const id = `tok-${now.toString(36)}`
      if (args.user) {
        const user = (await intake.store.getUser(args.user)) ?? (await intake.store.findUserByLogin(args.user))
        if (!user) throw new AccountError('unknown_user', `no account "${args.user}"`)
        const { secret } = await issueToken(intake.store, { userId: user.id }, CLI_ACTOR, now, id)
        console.log(`token for ${user.login} (shown once): ${secret}`)
        return 0
      }
      const scopes = (args.scopes ?? 'read').split(',').map((s) => IntegrationScope.safeParse(s.trim()))
      if (!args.integration || scopes.some((s) => !s.success)) {
        console.error(`intake token add needs --user LOGIN, or --integration NAME [--scopes ${IntegrationScope.options.join(',')}] [--office ID]`)
        return 2
      }
      if (args.office && !intake.offices.get(args.office)) throw new AccountError('unknown_office', `no office "${args.office}"`)
      const { secret } = await issueToken(intake.store, { integration: args.integration, scopes: scopes.map((s) => s.data!), officeId: args.office ?? null }, CLI_ACTOR, now, id)
      console.log(`token for integration ${args.integration} (shown once): ${secret}`)
      return 0
    }
  } catch (err) {
    if (err instanceof AccountError) {
      console.error(err.message)
      return 1
    }
    throw err
  }
  console.error(`unknown: intake ${command} ${sub ?? ''}`)
  return 2
}

/** `intake audit verify`: walk both chains; exit 1 naming the first row that does not fit. */
export async function auditVerifyCommand(intake: Intake): Promise<number> {
  await intake.store.migrate()
  const verdict = await intake.store.verifyAudit()
  let code = 0
  for (const [name, v] of Object.entries(verdict)) {
    if (v.ok) console.log(`${name}: ${v.rows} rows, chain intact; head ${v.head || '(empty)'}`)
    else {
      console.log(`${name}: BROKEN at row ${v.id} (${v.problem}): ${v.message}`)
      code = 1
    }
  }
  return code
}
