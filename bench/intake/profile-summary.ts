/**
 * Where a CPU profile (node --cpu-prof) spends its time: self time per function and per source
 * area (a workspace package's folder, a dependency, node internals, GC, idle), so a bench run can
 * say which phase of the intake path costs what.
 *
 *   npx tsx bench/intake/profile-summary.ts <file.cpuprofile> [--top 25]
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
  startTime: number
  endTime: number
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } })
if (!positionals[0]) throw new Error('usage: profile-summary.ts <file.cpuprofile> [--top 25]')
const profile = JSON.parse(readFileSync(positionals[0], 'utf8')) as Profile
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const parent = new Map<number, number>()
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)

const selfUs = new Map<number, number>()
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))
const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0)

/** A short name for where a frame's code lives. */
function area(url: string, fn: string): string {
  if (fn === '(garbage collector)') return 'GC'
  if (fn === '(idle)') return 'idle'
  if (fn === '(program)') return '(program: native, outside JS)'
  if (!url) return `(native) ${fn}`
  const ws = url.match(/\/packages\/([^/]+)\/src\/(.+?)\/[^/]+$|\/packages\/([^/]+)\/src\/([^/]+)$/)
  if (ws && !url.includes('/node_modules/')) return `@intake/${ws[1] ?? ws[3]}/${ws[2] ?? ws[4]}`
  const dep = url.match(/node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/)
  if (dep) return `${dep[1]}`
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`
  return url.replace(/^file:\/\//, '')
}

const areas = new Map<string, number>()
const functions = new Map<string, number>()
for (const [id, us] of selfUs) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame
  const a = area(url, functionName)
  areas.set(a, (areas.get(a) ?? 0) + us)
  const f = `${functionName || '(anonymous)'} ${url ? `${url.split('/').slice(-2).join('/')}:${lineNumber + 1}` : ''}`
  functions.set(f, (functions.get(f) ?? 0) + us)
}

/** Inclusive time of every frame whose function name matches, counted once per sample. */
function inclusive(match: (n: ProfileNode) => boolean): number {
  let us = 0
  profile.samples.forEach((id, i) => {
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      if (match(byId.get(cur)!)) {
        us += profile.timeDeltas[i] ?? 0
        return
      }
    }
  })
  return us
}

const top = Number(values.top)
const pct = (us: number) => `${((us / totalUs) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms`
console.log(`profile: ${(totalUs / 1e6).toFixed(1)} s sampled\n\nself time by area:`)
for (const [a, us] of [...areas].sort((x, y) => y[1] - x[1]).slice(0, top)) console.log(`  ${pct(us)}  ${a}`)
console.log('\nself time by function:')
for (const [f, us] of [...functions].sort((x, y) => y[1] - x[1]).slice(0, top)) console.log(`  ${pct(us)}  ${f}`)

// The intake path's phases, by the functions that implement them. Native work (SQLite, fsync) has no
// frame of its own: it is the self time of the JS function that called it.
type Match = (n: ProfileNode) => boolean
const fn = (name: string, urlPart = ''): Match => (n) => n.callFrame.functionName === name && n.callFrame.url.includes(urlPart)
const inclusivePhases: Array<[string, Match]> = [
  ['api channel: verify (HMAC)', fn('verifySignature')],
  ['api channel: parse (JSON + zod)', fn('parse', '/channels/src/api/')],
  ['pipeline.ingest (all of it)', fn('ingest', '/core/src/pipeline/')],
  ['  routing chain', fn('runRoutingChain')],
  ['  deadlineFor (working days)', fn('deadlineFor')],
  ['  store.findOpenCaseBySender', fn('findOpenCaseBySender')],
  ['  store.recordInbound (the transaction)', fn('recordInbound')],
  ['outbox: claim', fn('claimOutbox')],
  ['outbox: send', fn('send', '/core/src/outbox/')],
  ['  api channel send (fetch to the callback)', fn('send', '/channels/src/api/')],
  ["outbox: record a batch's verdicts", fn('recordBatch')],
  ['  store.completeOutboxBatch (the sends, one write)', fn('completeOutboxBatch')],
  ['  store.failOutbox (the transaction)', fn('failOutbox')],
  ['drizzle-orm (query building, and the SQLite calls under it)', (n) => n.callFrame.url.includes('drizzle-orm')],
]
const selfPhases: Array<[string, Match]> = [
  ["better-sqlite3's transaction wrapper, self: native BEGIN/COMMIT (WAL write, fsync, checkpoints)", fn('sqliteTransaction')],
  ["better-sqlite3's prepare, self: compiling SQL text on every query", fn('prepare', 'better-sqlite3')],
  ['logging (createLogger write), self', (n) => n.callFrame.url.includes('/core/src/log/')],
]
const selfOf = (match: Match) => [...selfUs].reduce((us, [id, t]) => (match(byId.get(id)!) ? us + t : us), 0)
console.log('\ninclusive time by phase:')
for (const [name, match] of inclusivePhases) console.log(`  ${pct(inclusive(match))}  ${name}`)
console.log('\nself time of native work:')
for (const [name, match] of selfPhases) console.log(`  ${pct(selfOf(match))}  ${name}`)
