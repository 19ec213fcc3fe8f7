import type { ClusterLinkResult, ClusterView, Store } from '../contracts/store.ts'
import type { IdGenerator } from '../ids/index.ts'

/**
 * Staff link cases into a cluster, or take one out, when intake's matching missed a duplicate or
 * joined one it should not have. A refusal is a value the API answers as a 4xx.
 */
export type ClusterLinkOutcome =
  | { ok: true; changed: boolean; view: ClusterView }
  | { ok: false; status: 404 | 409 | 422; code: string; message: string }

export interface ClusterLinkDeps {
  store: Store
  ids: IdGenerator
  now: () => number
}

/** Put `caseId` into `clusterId`, or (no clusterId) into `withCaseId`'s cluster, made now if it has none. */
export async function linkToCluster(
  deps: ClusterLinkDeps,
  input: { caseId: string; actor: string } & ({ clusterId: string } | { withCaseId: string }),
): Promise<ClusterLinkOutcome> {
  const at = deps.now()
  const result =
    'clusterId' in input
      ? await deps.store.linkCluster({ op: 'join', caseId: input.caseId, clusterId: input.clusterId, at, actor: input.actor, data: { via: 'staff' } })
      : await deps.store.linkCluster({ op: 'pair', caseId: input.caseId, withCaseId: input.withCaseId, newClusterId: deps.ids(), at, actor: input.actor, data: { via: 'staff' } })
  return outcome(deps.store, result)
}

/** Take `caseId` out of `clusterId`. */
export async function unlinkFromCluster(deps: ClusterLinkDeps, input: { clusterId: string; caseId: string; actor: string }): Promise<ClusterLinkOutcome> {
  const result = await deps.store.linkCluster({ op: 'leave', caseId: input.caseId, clusterId: input.clusterId, at: deps.now(), actor: input.actor, data: { via: 'staff' } })
  return outcome(deps.store, result)
}

async function outcome(store: Store, result: ClusterLinkResult): Promise<ClusterLinkOutcome> {
  if (result.ok) {
    const view = await store.getCluster(result.clusterId)
    if (!view) throw new Error(`[clusters] cluster ${result.clusterId} vanished after a link`)
    return { ok: true, changed: result.changed, view }
  }
  switch (result.code) {
    case 'case_not_found':
      return { ok: false, status: 404, code: 'case_not_found', message: `no case "${result.caseId}"` }
    case 'cluster_not_found':
      return { ok: false, status: 404, code: 'cluster_not_found', message: `no cluster "${result.clusterId}"` }
    case 'already_clustered':
      return { ok: false, status: 409, code: 'already_clustered', message: `case "${result.caseId}" is already in cluster "${result.clusterId}"; unlink it there first` }
    case 'not_a_member':
      return { ok: false, status: 409, code: 'not_a_member', message: `case "${result.caseId}" is not in cluster "${result.clusterId}"` }
    case 'same_case':
      return { ok: false, status: 422, code: 'same_case', message: 'a case cannot be linked with itself' }
  }
}
