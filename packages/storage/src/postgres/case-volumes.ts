import type pg from 'pg'
import type { CaseStatus, CaseVolumes, VolumeQuery } from '@intake/core'
import { dayName } from '../sqlite/case-volumes.ts'

/**
 * Store.caseVolumes in PostgreSQL: the four counts the dashboard draws (day × channel, office,
 * category, status) as grouping sets of one scan over the stats rows in scope, not their product
 * (about one group per case; see ../sqlite/case-volumes.ts). `grouping(…)` tells the sets apart: a
 * null category is a real group, not a set that left category out.
 */
export async function queryCaseVolumes(pool: pg.Pool, { scope, since, until, utcOffsetMinutes }: VolumeQuery): Promise<CaseVolumes> {
  const volumes: CaseVolumes = { byDayAndChannel: [], byOffice: [], byCategory: [], byStatus: [] }
  if (scope && scope.officeIds.length === 0) return volumes
  const params: unknown[] = [since, until]
  // The offset inlined (a number): as a parameter, the select's and the grouping set's day would be two expressions.
  const day = `((received_at + ${Math.trunc(utcOffsetMinutes) * 60_000}) / 86400000)::int`
  let where = 'received_at >= $1::bigint and received_at < $2::bigint'
  if (scope) {
    params.push(scope.officeIds)
    where += ' and office_id = any($3::text[])'
  }
  type Row = { day: number | null; channelId: string | null; officeId: string | null; category: string | null; status: CaseStatus | null; count: number; byDay: number; byOffice: number; byCategory: number }
  const { rows } = await pool.query<Row>(
    `select ${day} as day, channel_id as "channelId", office_id as "officeId", category, status, count(*)::int as count,
       grouping(${day}, channel_id) as "byDay", grouping(office_id) as "byOffice", grouping(category) as "byCategory"
     from case_stats where ${where}
     group by grouping sets ((${day}, channel_id), (office_id), (category), (status))`,
    params,
  )
  // grouping() is 0 for the set that groups by those columns.
  for (const r of rows) {
    if (r.byDay === 0) volumes.byDayAndChannel.push({ day: dayName(r.day!), channelId: r.channelId!, count: r.count })
    else if (r.byOffice === 0) volumes.byOffice.push({ officeId: r.officeId!, count: r.count })
    else if (r.byCategory === 0) volumes.byCategory.push({ category: r.category, count: r.count })
    else volumes.byStatus.push({ status: r.status!, count: r.count })
  }
  return volumes
}
