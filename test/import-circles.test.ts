/**
 * The packages' sources import each other in one direction: no file reaches itself again through its
 * imports (type-only imports included: they tie modules together just as tightly for a reader), and
 * in core the pipeline sits below what acts on cases — the case actions, the lifecycle and the
 * transcription worker share outbound messages and landings through messaging/, never through the
 * pipeline. Checked with madge, over every package at once.
 */
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

interface MadgeResult {
  circular(): string[][]
  obj(): Record<string, string[]>
}
type Madge = (paths: string[], config: { baseDir: string; fileExtensions: string[]; excludeRegExp?: RegExp[] }) => Promise<MadgeResult>
// madge ships CommonJS without type declarations; these are the two calls used here.
const madge = createRequire(import.meta.url)('madge') as Madge

const root = join(import.meta.dirname, '..')
const PACKAGES = ['core', 'channels', 'routing', 'storage', 'transcription', 'console'].map((p) => `packages/${p}/src`)

/** Every file `from` reaches through its imports. */
function reachable(graph: Record<string, string[]>, from: string): Set<string> {
  const seen = new Set<string>()
  const todo = [from]
  while (todo.length) {
    for (const next of graph[todo.pop()!] ?? []) {
      if (!seen.has(next)) {
        seen.add(next)
        todo.push(next)
      }
    }
  }
  return seen
}

describe('imports', () => {
  it('form no circle in any package', { timeout: 180_000 }, async () => {
    const result = await madge(PACKAGES, { baseDir: root, fileExtensions: ['ts'], excludeRegExp: [/\.test\.ts$/] })
    const graph = result.obj()
    // The check reads what it should: core's pipeline and its imports are in the graph.
    expect(graph['packages/core/src/pipeline/index.ts']).toContain('packages/core/src/messaging/index.ts')
    expect(result.circular()).toEqual([])

    for (const above of ['case-actions/index.ts', 'lifecycle/service.ts', 'transcription/index.ts', 'messaging/index.ts']) {
      expect([...reachable(graph, `packages/core/src/${above}`)], `${above} reaches the pipeline`).not.toContain('packages/core/src/pipeline/index.ts')
    }
  })
})
