export { toIntakeDesk, type ToIntakeDeskOptions } from './to-intake-desk.ts'
export { byTrackingCode, type ByTrackingCodeOptions } from './by-tracking-code.ts'
export {
  byKeywords,
  loadKeywordRules,
  KeywordRule,
  type KeywordRuleInput,
  type ByKeywordsOptions,
} from './by-keywords.ts'
export { byJurisdiction, type ByJurisdictionOptions } from './by-jurisdiction.ts'
export { ADMINISTRATIVE_SUFFIXES } from './gazetteer.ts'
export { RoutingConfigError } from './errors.ts'
