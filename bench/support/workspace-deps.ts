/**
 * The root package declares autocannon but not hono, @hono/node-server, zod or better-sqlite3: pnpm
 * keeps those with the workspace packages that use them. The bench borrows them from there, which
 * also guarantees the baseline runs exactly the versions the gateway runs. (Declaring them as root
 * devDependencies would let this file go.)
 */
import { readFileSync, realpathSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

interface Manifest {
  main?: string
  module?: string
  exports?: unknown
}

/** The entry Node's ESM loader would pick: exports["."].import, else module, else main. */
function esmEntry(manifest: Manifest): string {
  const exported = manifest.exports
  const dot = exported && typeof exported === 'object' && '.' in exported ? (exported as Record<string, unknown>)['.'] : exported
  if (typeof dot === 'string') return dot
  if (dot && typeof dot === 'object') {
    const conditions = dot as Record<string, unknown>
    for (const condition of ['import', 'node', 'default']) {
      const target = conditions[condition]
      if (typeof target === 'string') return target
      if (target && typeof target === 'object' && typeof (target as Record<string, unknown>).default === 'string') {
        return (target as Record<string, string>).default!
      }
    }
  }
  return manifest.module ?? manifest.main ?? 'index.js'
}

/** `import(name)` as seen from packages/<workspacePackage>, where pnpm linked the dependency. */
export async function importFromWorkspace<T>(workspacePackage: string, name: string): Promise<T> {
  const link = fileURLToPath(new URL(`../../packages/${workspacePackage}/node_modules/${name}`, import.meta.url))
  let dir: string
  try {
    dir = realpathSync(link)
  } catch {
    throw new Error(`[bench] ${name} is not installed for packages/${workspacePackage} (looked at ${link}); run pnpm install first`)
  }
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest
  return (await import(pathToFileURL(join(dir, esmEntry(manifest))).href)) as T
}

type BetterSqlite3 = typeof import('better-sqlite3')

/** better-sqlite3's Database constructor (a CommonJS module: its export arrives as `default`). */
export async function loadBetterSqlite3(): Promise<BetterSqlite3> {
  const mod = await importFromWorkspace<{ default: BetterSqlite3 }>('storage', 'better-sqlite3')
  return mod.default
}
