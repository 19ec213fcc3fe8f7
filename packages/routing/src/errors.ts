/**
 * A routing strategy was configured wrongly. Thrown by the factory, so a bad rules file or option
 * fails when the app starts instead of on the first citizen's message.
 *
 * @example
 * byKeywords({ rules: [{ words: ['噪音'] }] })
 * // RoutingConfigError: [routing/by-keywords] rules.0: a rule needs a category or an officeId
 */
export class RoutingConfigError extends Error {
  readonly code = 'routing_config_invalid'
  constructor(
    readonly component: string,
    message: string,
  ) {
    super(`[routing/${component}] ${message}`)
    this.name = 'RoutingConfigError'
  }
}
