import { addUser, AccountError, type Role, type StaffConsole } from '@intake/core'
import { createConsoleApp, type StaffConsoleOptions } from './app.tsx'
import { auditRoutes } from './audit.tsx'
import { casePageRoutes } from './case-page.tsx'
import { caseListRoutes } from './cases.tsx'
import { dashboardRoutes } from './dashboard.tsx'
import { deadLetterRoutes } from './dead-letters.tsx'
import { officeRoutes } from './offices.tsx'
import { staffRoutes } from './staff.tsx'
import { supervisionRoutes } from './supervision.tsx'

export type { StaffConsoleOptions } from './app.tsx'

/** An account the console creates at start when it does not exist yet (a demo, a first administrator). */
export interface SeedUser {
  login: string
  name: string
  officeId: string
  role: Role
  password: string
}

/**
 * The staff console under /console: server-rendered pages (hono/jsx), plain forms that work without
 * script, sessions and CSRF, every read scoped to the user's office subtree.
 *
 * @example
 * defineConfig({ ..., console: staffConsole({ sessions: { idleMinutes: 30 } }) })
 */
export function staffConsole(options: StaffConsoleOptions & { seedUsers?: SeedUser[] } = {}): StaffConsole {
  return {
    name: 'console',
    async start(ctx) {
      // In parallel: scrypt runs on libuv's thread pool, so seven demo accounts cost about two hashes' time.
      const lines = await Promise.all((options.seedUsers ?? []).map(async (seed) => {
        let created = false
        if (!(await ctx.store.findUserByLogin(seed.login))) {
          try {
            await addUser(ctx.store, ctx.offices, seed, 'system:seed', ctx.now())
            created = true
          } catch (err) {
            if (!(err instanceof AccountError && err.code === 'login_taken')) throw err
          }
        }
        const where = `${seed.role}, ${ctx.offices.get(seed.officeId)?.name ?? seed.officeId}`
        // An account that existed already keeps whatever password it has now.
        return `console ${ctx.publicUrl}/console/  ${seed.login} / ${created ? seed.password : '(existing account, password unchanged)'}  (${where})`
      }))
      return lines
    },
    mount(app, ctx) {
      const consoleApp = createConsoleApp(ctx, options, [caseListRoutes, casePageRoutes, supervisionRoutes, deadLetterRoutes, auditRoutes, dashboardRoutes, staffRoutes, officeRoutes])
      app.get('/console', (c) => c.redirect('/console/cases', 302))
      app.get('/console/', (c) => c.redirect('/console/cases', 302))
      app.route('/console', consoleApp as never)
    },
  }
}
