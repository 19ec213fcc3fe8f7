/**
 * The county-hotline demo with a language model first: byClassifier reads category, places and
 * urgency through an OpenAI-compatible API (OpenAI, or a self-hosted server such as vLLM or
 * Ollama); when it times out, fails or is unsure, the demo's chain (routing.ts) decides as without it.
 *
 *   INTAKE_LLM_BASE_URL=http://127.0.0.1:8000/v1 INTAKE_LLM_MODEL=qwen2.5-7b-instruct INTAKE_LLM_API_KEY=… \
 *     intake route-eval examples/county-hotline/eval.csv --config examples/county-hotline/classifier-routing.config.ts
 *
 * (INTAKE_LLM_BASE_URL may be left out for OpenAI's own API.)
 */
import { defineConfig } from '@intake/core'
import { byCategory, byClassifier, byJurisdiction, byTrackingCode, byUrgency, toIntakeDesk } from '@intake/routing'
import demo from './intake.config.ts'
import { xinjiangPlaces } from './routing.ts'

const env = process.env
if (!env.INTAKE_LLM_MODEL || !env.INTAKE_LLM_API_KEY) {
  throw new Error('[county-hotline] set INTAKE_LLM_MODEL and INTAKE_LLM_API_KEY (and INTAKE_LLM_BASE_URL for a self-hosted model server)')
}
const jurisdiction = byJurisdiction({ places: xinjiangPlaces })

export default defineConfig({
  ...demo,
  routing: [
    byTrackingCode(),
    byUrgency(),
    byClassifier({
      model: env.INTAKE_LLM_MODEL,
      apiKey: env.INTAKE_LLM_API_KEY,
      baseURL: env.INTAKE_LLM_BASE_URL,
      timeoutMs: Number(env.INTAKE_LLM_TIMEOUT_MS ?? 8000),
      within: jurisdiction,
    }),
    byCategory({ within: jurisdiction }),
    jurisdiction,
    toIntakeDesk(),
  ],
})
