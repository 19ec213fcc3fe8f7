import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'drizzle-kit'

// drizzle-kit reads these paths from the working directory (and breaks on absolute `out` paths by
// prefixing './'), so spell them relative to wherever it runs: the repository root for
// `pnpm db:generate`, or this package.
const fromHere = (path: string) => relative(process.cwd(), fileURLToPath(new URL(path, import.meta.url))) || '.'

export default defineConfig({
  dialect: 'sqlite',
  schema: fromHere('./src/sqlite/schema.ts'),
  out: fromHere('./migrations/sqlite'),
})
