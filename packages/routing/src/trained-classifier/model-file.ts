/**
 * The model file: JSON a person can read the head of (format, features, labels, temperature, how
 * it was trained), with the numeric arrays as base64 of little-endian typed arrays. The same
 * model always writes the same bytes (no timestamps), so a retrain that changed nothing shows no diff.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { z } from 'zod'
import type { Head, HeadName, LinearModel } from './linear-model.ts'

export const MODEL_FORMAT = 'intake-linear-model/1'

export class ModelFileError extends Error {
  readonly code = 'classifier_model_invalid'
  constructor(message: string) {
    super(`[routing/trained-classifier] ${message}`)
    this.name = 'ModelFileError'
  }
}

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64')
const HeadFile = z.object({
  labels: z.array(z.string()).min(2),
  temperature: z.number().positive(),
  examples: z.number().int().nonnegative(),
  bias: z.array(z.number()),
  weights: base64,
})
const ModelFileSchema = z.object({
  format: z.literal(MODEL_FORMAT),
  features: z.object({ bits: z.number().int().min(8).max(24), maxN: z.number().int().min(1).max(8), words: z.boolean() }),
  trainedOn: z.object({ examples: z.number().int(), seed: z.number(), c: z.number() }),
  heads: z.object({ category: HeadFile.optional(), office: HeadFile.optional() }),
  buckets: base64,
  idf: base64,
})

function encode(array: Float32Array | Int32Array): string {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength).toString('base64')
}

function decode<T extends Float32Array | Int32Array>(text: string, Type: { new (buffer: ArrayBuffer): T; BYTES_PER_ELEMENT: number }, what: string): T {
  const bytes = Buffer.from(text, 'base64')
  if (bytes.byteLength % Type.BYTES_PER_ELEMENT !== 0) throw new ModelFileError(`${what} is cut short`)
  // A copy, aligned for the typed array.
  const copy = new ArrayBuffer(bytes.byteLength)
  new Uint8Array(copy).set(bytes)
  return new Type(copy)
}

export function serializeModel(model: LinearModel): string {
  const heads: Record<string, unknown> = {}
  for (const [name, h] of Object.entries(model.heads) as [HeadName, Head][]) {
    heads[name] = { labels: h.labels, temperature: h.temperature, examples: h.examples, bias: [...h.bias], weights: encode(h.weights) }
  }
  return `${JSON.stringify({ format: MODEL_FORMAT, features: model.spec, trainedOn: model.trainedOn, heads, buckets: encode(model.buckets), idf: encode(model.idf) })}\n`
}

export function parseModel(text: string, source = 'the model'): LinearModel {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw new ModelFileError(`${source} is not JSON: ${(err as Error).message}`)
  }
  const parsed = ModelFileSchema.safeParse(json)
  if (!parsed.success) throw new ModelFileError(`${source} is not an ${MODEL_FORMAT} model:\n${z.prettifyError(parsed.error)}`)
  const m = parsed.data
  const buckets = decode(m.buckets, Int32Array, 'buckets')
  const idf = decode(m.idf, Float32Array, 'idf')
  if (idf.length !== buckets.length) throw new ModelFileError(`${source}: ${idf.length} idf values for ${buckets.length} buckets`)
  const heads: Partial<Record<HeadName, Head>> = {}
  for (const name of ['category', 'office'] as const) {
    const h = m.heads[name]
    if (!h) continue
    const weights = decode(h.weights, Float32Array, `${name} weights`)
    if (h.bias.length !== h.labels.length || weights.length !== buckets.length * h.labels.length) {
      throw new ModelFileError(`${source}: the ${name} head's arrays do not fit its ${h.labels.length} labels`)
    }
    heads[name] = { labels: h.labels, temperature: h.temperature, examples: h.examples, bias: Float32Array.from(h.bias), weights }
  }
  if (!heads.category && !heads.office) throw new ModelFileError(`${source} has no head (category or office)`)
  return { spec: m.features, buckets, idf, heads, trainedOn: m.trainedOn }
}

export function readModelFile(path: string): LinearModel {
  return parseModel(readFileSync(path, 'utf8'), path)
}

/** Writes through a temporary file and a rename, so a running gateway never reads half a model. */
export function writeModelFile(path: string, model: LinearModel): void {
  mkdirSync(dirname(path), { recursive: true })
  const tmp = `${path}.${process.pid}.tmp`
  writeFileSync(tmp, serializeModel(model))
  renameSync(tmp, path)
}
