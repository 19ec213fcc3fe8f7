import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'drizzle-kit'

// The PostgreSQL twin of drizzle.config.ts (same reason for the relative paths).
const fromHere = (path: string) => relative(process.cwd(), fileURLToPath(new URL(path, import.meta.url))) || '.'

export default defineConfig({
  dialect: 'postgresql',
  schema: fromHere('./src/postgres/schema.ts'),
  out: fromHere('./migrations/postgres'),
})
