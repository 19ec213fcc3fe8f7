/**
 * Prints, after the default report, every test that was skipped and why: the reason is in the
 * test's (or its suite's) name — "— skipped: dovecot-imapd is absent …" — which the default
 * reporter only shows in verbose mode. A skipped suite is listed once, not once per test in it.
 */
import { relative } from 'node:path'
import type { Reporter, TestCase, TestModule } from 'vitest/node'

export default class SkipReasonsReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const lines: string[] = []
    for (const mod of modules) {
      const names = new Set<string>()
      for (const test of mod.children.allTests('skipped')) {
        // A test skipped by a .skipIf on its suite says why in the suite's name: name the outermost such suite.
        let name = test.fullName
        for (let p: TestCase['parent'] = test.parent; p.type === 'suite'; p = p.parent) {
          if (p.options.mode === 'skip') name = p.fullName
        }
        names.add(name)
      }
      for (const name of names) lines.push(`  ${relative(process.cwd(), mod.moduleId)} › ${name}`)
    }
    if (lines.length === 0) return
    console.log(`\n${lines.length} skipped, each with its reason:\n${lines.join('\n')}\n`)
  }
}
