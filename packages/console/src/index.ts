import type { StaffConsole } from '@intake/core'
import { createConsoleApp, type StaffConsoleOptions } from './app.tsx'
import { auditRoutes } from './audit.tsx'
import { casePageRoutes } from './case-page.tsx'
import { caseListRoutes } from './cases.tsx'
import { dashboardRoutes } from './dashboard.tsx'
import { deadLetterRoutes } from './dead-letters.tsx'
import { supervisionRoutes } from './supervision.tsx'

export type { StaffConsoleOptions } from './app.tsx'

/**
 * The staff console under /console: server-rendered pages (hono/jsx), plain forms that work without
 * script, sessions and CSRF, every read scoped to the user's office subtree.
 *
 * @example
 * defineConfig({ ..., console: staffConsole({ sessions: { idleMinutes: 30 } }) })
 */
export function staffConsole(options: StaffConsoleOptions = {}): StaffConsole {
  return {
    name: 'console',
    mount(app, ctx) {
      const consoleApp = createConsoleApp(ctx, options, [caseListRoutes, casePageRoutes, supervisionRoutes, deadLetterRoutes, auditRoutes, dashboardRoutes])
      app.get('/console', (c) => c.redirect('/console/cases', 302))
      app.get('/console/', (c) => c.redirect('/console/cases', 302))
      app.route('/console', consoleApp as never)
    },
  }
}
