/**
 * The lifecycle's settings (config key `lifecycle`), with their defaults: reminders before the
 * deadline, escalation (督办) after it, the follow-up survey (回访) and the timer worker.
 */
export interface LifecycleConfig {
  /** Reminders to the handling office this long before the deadline (default ['1 working day']); one at the deadline always. */
  reminders?: string[]
  escalation?: {
    /** Level 1 (to the parent office) this long after the deadline (default '0m': at once). */
    after?: string
    /** Level 2 (one office further up) this long after level 1 (default '1 working day'; null: none). */
    secondLevelAfter?: string | null
  }
  survey?: {
    /** Time after resolution before the survey goes out (default '1h'). */
    delay?: string
    /** No answer this long after resolution closes the case as not rated (default '3 days'). */
    expireAfter?: string
    /** A rating at or below this reopens the case (default 2). */
    threshold?: number
    /** The reopened case's new deadline (default: the office's policy for the case's urgency). */
    reopenWithin?: string
  }
  timers?: { pollMs?: number; leaseMs?: number; batchSize?: number }
}

export interface LifecycleSettings {
  reminders: string[]
  escalation: { after: string; secondLevelAfter: string | null }
  survey: { delay: string; expireAfter: string; threshold: number; reopenWithin?: string }
  timers: { pollMs: number; leaseMs: number; batchSize: number }
}

export function lifecycleSettings(c: LifecycleConfig = {}): LifecycleSettings {
  return {
    reminders: c.reminders ?? ['1 working day'],
    escalation: { after: c.escalation?.after ?? '0m', secondLevelAfter: c.escalation?.secondLevelAfter === undefined ? '1 working day' : c.escalation.secondLevelAfter },
    survey: {
      delay: c.survey?.delay ?? '1h',
      expireAfter: c.survey?.expireAfter ?? '3 days',
      threshold: c.survey?.threshold ?? 2,
      ...(c.survey?.reopenWithin ? { reopenWithin: c.survey.reopenWithin } : {}),
    },
    timers: { pollMs: c.timers?.pollMs ?? 1_000, leaseMs: c.timers?.leaseMs ?? 30_000, batchSize: c.timers?.batchSize ?? 500 },
  }
}
