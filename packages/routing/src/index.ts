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
export { ADMINISTRATIVE_SUFFIXES, COMMON_WORDS } from './gazetteer.ts'
export { chinaDivisions, type ChinaDivisionsOptions } from './china-divisions.ts'
export { placeList, parsePlaceList, type PlaceGazetteer, type PlaceListOptions, type PlaceRecord, type PlaceSource, type SupportRule } from './place-gazetteer.ts'
export { RoutingConfigError } from './errors.ts'
export { byUrgency, DEFAULT_URGENCY_SIGNALS, UrgencySignal, type UrgencySignalInput, type ByUrgencyOptions } from './by-urgency.ts'
export { byLocation, type ByLocationOptions } from './by-location.ts'
export { byChannelOwner, type ByChannelOwnerOptions } from './by-channel-owner.ts'
export {
  byCategory,
  categorizer,
  defaultTaxonomy,
  loadTaxonomy,
  DEFAULT_TAXONOMY_FILE,
  TaxonomyCategory,
  type TaxonomyCategoryInput,
  type CategoryMatch,
  type PlaceOfficeHook,
  type UnlistedCategory,
  type UnlistedAtRoot,
  type ByCategoryOptions,
} from './by-category.ts'
export { byClassifier, DEFAULT_CLASSIFIER_PROMPT, type ByClassifierOptions, type ClassifierDeferral } from './by-classifier.ts'
export { remitIndex, type RemitIndex } from './remit.ts'
export { byTrainedClassifier, trainingExamples, type ByTrainedClassifierOptions } from './by-trained-classifier.ts'
export { trainLinearModel, Predictor, TrainingError, type LinearModel, type TrainingExample, type TrainOptions, type Prediction, type Contribution } from './trained-classifier/linear-model.ts'
export { readModelFile, writeModelFile, parseModel, serializeModel, ModelFileError, MODEL_FORMAT } from './trained-classifier/model-file.ts'
export { DEFAULT_FEATURE_SPEC, type FeatureSpec } from './trained-classifier/features.ts'
export { byBestOf, type ByBestOfOptions } from './by-best-of.ts'
