import type { Office } from '../model/index.ts'

/**
 * The office tree, indexed for routing: parents, children, depth, the intake desk.
 * Built once from the configured offices; the tree is validated (one root per branch, no cycles,
 * every parent known, exactly one intake desk) so a bad offices file fails at start.
 */
export interface OfficeDirectory {
  readonly all: readonly Office[]
  get(id: string): Office | undefined
  children(id: string): readonly Office[]
  /** Root offices have depth 0. */
  depth(id: string): number
  /** From the office itself up to its root. */
  lineage(id: string): readonly Office[]
  /** True when `ancestorId` is `id` or above it. */
  covers(ancestorId: string, id: string): boolean
  intakeDesk(): Office
}

export class OfficeTreeError extends Error {
  readonly code = 'office_tree_invalid'
  constructor(message: string) {
    super(`[offices] ${message}`)
  }
}

export function buildOfficeDirectory(offices: readonly Office[]): OfficeDirectory {
  const byId = new Map<string, Office>()
  for (const o of offices) {
    if (byId.has(o.id)) throw new OfficeTreeError(`duplicate office id "${o.id}"`)
    byId.set(o.id, o)
  }
  const children = new Map<string, Office[]>()
  for (const o of offices) {
    if (o.parentId === null) continue
    if (!byId.has(o.parentId)) throw new OfficeTreeError(`office "${o.id}" names unknown parent "${o.parentId}"`)
    const list = children.get(o.parentId) ?? []
    list.push(o)
    children.set(o.parentId, list)
  }
  const depths = new Map<string, number>()
  const depthOf = (id: string, seen: Set<string> = new Set()): number => {
    const known = depths.get(id)
    if (known !== undefined) return known
    if (seen.has(id)) throw new OfficeTreeError(`office "${id}" is its own ancestor`)
    seen.add(id)
    const o = byId.get(id)!
    const d = o.parentId === null ? 0 : depthOf(o.parentId, seen) + 1
    depths.set(id, d)
    return d
  }
  for (const o of offices) depthOf(o.id)
  const desks = offices.filter((o) => o.intakeDesk)
  if (desks.length !== 1) {
    throw new OfficeTreeError(`exactly one office must be the intake desk (intakeDesk: true); found ${desks.length}`)
  }
  const desk = desks[0]!
  const lineage = (id: string): Office[] => {
    const out: Office[] = []
    for (let o = byId.get(id); o; o = o.parentId ? byId.get(o.parentId) : undefined) out.push(o)
    return out
  }
  return {
    all: offices,
    get: (id) => byId.get(id),
    children: (id) => children.get(id) ?? [],
    depth: (id) => depths.get(id) ?? 0,
    lineage,
    covers: (ancestorId, id) => lineage(id).some((o) => o.id === ancestorId),
    intakeDesk: () => desk,
  }
}

