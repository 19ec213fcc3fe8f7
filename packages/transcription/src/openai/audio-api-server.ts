/**
 * A local stand-in for the OpenAI audio API's transcription endpoint, speaking its wire format, for
 * tests (api.openai.com cannot be reached from here). Sources:
 * - Create transcription: https://platform.openai.com/docs/api-reference/audio/createTranscription
 *   `POST /v1/audio/transcriptions`, `multipart/form-data` with `file` (a file part: name and content
 *   type), `model`, optional `language` (ISO-639-1), `prompt`, `response_format`
 *   (json | text | srt | verbose_json | vtt), `temperature`; `Authorization: Bearer <key>`.
 * - Answers: json `{ text }`; verbose_json `{ task, language, duration, text, segments: [{ id, seek,
 *   start, end, text, tokens, temperature, avg_logprob, compression_ratio, no_speech_prob }] }`
 *   (https://platform.openai.com/docs/api-reference/audio/verbose-json-object); text as text/plain.
 * - Errors: https://platform.openai.com/docs/guides/error-codes — a JSON body
 *   `{ "error": { "message", "type", "param", "code" } }` with 400, 401 (`invalid_api_key`), 429
 *   (`rate_limit_exceeded`), 500 (`server_error`).
 * The multipart body is parsed by a real parser (undici's, behind `Request.formData()`), so what a
 * test asserts is what a server would have read.
 */
import { timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface AudioApiServerOptions {
  /** The key clients must send as `Authorization: Bearer <key>`. */
  apiKey: string
  port?: number
}

/** One upload, as the server read it. */
export interface ReceivedTranscription {
  model: string
  language?: string
  responseFormat: string
  prompt?: string
  filename: string
  /** The file part's own Content-Type. */
  contentType: string
  bytes: Uint8Array
  /** Every text field of the form. */
  fields: Record<string, string>
  /** The request's Content-Type (`multipart/form-data; boundary=…`). */
  requestContentType: string
}

/** What the server says next: a transcript, or an error as OpenAI words it. */
export type ScriptedAnswer =
  | { text: string; language?: string; avgLogprobs?: number[]; delayMs?: number }
  | { status: 401 | 429 | 500 | 400; delayMs?: number; message?: string }
  /** Take this long, then answer with the default transcript. */
  | { delayMs: number }

export interface AudioApiServer {
  /** Base URL for the SDK's `baseURL`, ending in `/v1`. */
  url: string
  received: ReceivedTranscription[]
  /** Every request to the endpoint, answered or not. */
  readonly requests: number
  /** Requests whose client went away before the answer (an aborted, timed-out call). */
  readonly abandoned: number
  /** The transcript given when nothing is scripted. */
  setTranscript(text: string, opts?: { language?: string; avgLogprobs?: number[] }): void
  /** Answer the next requests like this, in order. */
  script(...answers: ScriptedAnswer[]): void
  close(): Promise<void>
}

const ERRORS = {
  400: { type: 'invalid_request_error', code: null, message: 'Invalid request.' },
  401: { type: 'invalid_request_error', code: 'invalid_api_key', message: 'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.' },
  429: { type: 'requests', code: 'rate_limit_exceeded', message: 'Rate limit reached for requests. Please try again in 1s.' },
  500: { type: 'server_error', code: null, message: 'The server had an error while processing your request. Sorry about that!' },
} as const

const FORMATS = ['json', 'text', 'srt', 'verbose_json', 'vtt']
/** The upload limit the API documents: 25 MB. */
const MAX_FILE_BYTES = 25 * 1024 * 1024
/** Whisper's file-format check is by extension. */
const SUPPORTED = /\.(flac|m4a|mp3|mp4|mpeg|mpga|oga|ogg|wav|webm)$/i

/** Seconds of audio when the file is a PCM WAV (what the tests send); otherwise 0. */
function wavDuration(bytes: Uint8Array): number {
  if (bytes.length < 44 || String.fromCharCode(...bytes.subarray(0, 4)) !== 'RIFF') return 0
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const byteRate = dv.getUint32(28, true)
  return byteRate ? Math.round(((bytes.length - 44) / byteRate) * 100) / 100 : 0
}

export async function startAudioApiServer({ apiKey, port = 0 }: AudioApiServerOptions): Promise<AudioApiServer> {
  const received: ReceivedTranscription[] = []
  const queue: ScriptedAnswer[] = []
  let fallback: { text: string; language?: string; avgLogprobs?: number[] } = { text: 'the street light on main road is broken', language: 'english', avgLogprobs: [-0.2] }
  let requests = 0
  let abandoned = 0
  const expected = Buffer.from(`Bearer ${apiKey}`)

  const json = (res: ServerResponse, status: number, body: unknown) => {
    if (res.destroyed) return
    res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': `req_${Date.now().toString(36)}` })
    res.end(JSON.stringify(body))
  }
  const fail = (res: ServerResponse, status: keyof typeof ERRORS, message?: string, param: string | null = null, code: string | null = ERRORS[status].code) => {
    const e = ERRORS[status]
    json(res, status, { error: { message: message ?? e.message, type: e.type, param, code } })
  }

  async function transcribe(req: IncomingMessage, res: ServerResponse, body: Buffer) {
    requests++
    const scripted = queue.shift()
    if (scripted?.delayMs) {
      const gone = await waitOrHangUp(res, scripted.delayMs)
      if (gone) {
        abandoned++
        return
      }
    }
    const given = Buffer.from(req.headers.authorization ?? '')
    if (!req.headers.authorization) {
      return fail(res, 401, "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", null, null)
    }
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return fail(res, 401)
    if (scripted && 'status' in scripted) return fail(res, scripted.status, scripted.message)

    const requestContentType = req.headers['content-type'] ?? ''
    if (!/^multipart\/form-data;\s*boundary=/i.test(requestContentType)) {
      return fail(res, 400, "Invalid Content-Type header (expected multipart/form-data with a boundary)")
    }
    let form: FormData
    try {
      form = await new Request('http://stand-in/', { method: 'POST', headers: { 'content-type': requestContentType }, body: new Uint8Array(body) }).formData()
    } catch {
      return fail(res, 400, 'Could not parse multipart form')
    }
    const file = form.get('file')
    const model = form.get('model')
    if (!(file instanceof File)) return fail(res, 400, "1 validation error for Request\nbody -> file\n  field required (type=value_error.missing)", 'file')
    if (typeof model !== 'string' || !model) return fail(res, 400, 'you must provide a model parameter', 'model')
    if (file.size > MAX_FILE_BYTES) return fail(res, 400, `Maximum content size limit (${MAX_FILE_BYTES}) exceeded.`, 'file')
    if (!SUPPORTED.test(file.name)) {
      return fail(res, 400, "Invalid file format. Supported formats: ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm']", 'file')
    }
    const fields: Record<string, string> = {}
    for (const [name, value] of form) if (typeof value === 'string') fields[name] = value
    const language = fields.language
    if (language !== undefined && !/^[a-z]{2,3}$/.test(language)) {
      return fail(res, 400, `Invalid language '${language}'. Language parameter must be specified in ISO-639-1 format.`, 'language')
    }
    const responseFormat = fields.response_format ?? 'json'
    if (!FORMATS.includes(responseFormat)) return fail(res, 400, `'${responseFormat}' is not one of ${JSON.stringify(FORMATS)} - 'response_format'`, 'response_format')
    const bytes = new Uint8Array(await file.arrayBuffer())
    received.push({ model, language, responseFormat, prompt: fields.prompt, filename: file.name, contentType: file.type, bytes, fields, requestContentType })

    const answer = scripted && 'text' in scripted ? scripted : fallback
    if (responseFormat === 'text') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' })
      return res.end(answer.text)
    }
    if (responseFormat !== 'verbose_json' && responseFormat !== 'json') return fail(res, 400, `response_format ${responseFormat} is not played by this stand-in`, 'response_format')
    if (responseFormat === 'json') return json(res, 200, { text: answer.text })
    const duration = wavDuration(bytes)
    const logprobs = answer.avgLogprobs ?? []
    const words = answer.text.split(' ')
    const per = Math.ceil(words.length / Math.max(1, logprobs.length))
    json(res, 200, {
      task: 'transcribe',
      language: answer.language ?? 'english',
      duration,
      text: answer.text,
      segments: logprobs.map((avg_logprob, id) => ({
        id,
        seek: 0,
        start: (duration / logprobs.length) * id,
        end: (duration / logprobs.length) * (id + 1),
        text: ' ' + words.slice(id * per, (id + 1) * per).join(' '),
        tokens: [50364],
        temperature: 0,
        avg_logprob,
        compression_ratio: 1,
        no_speech_prob: 0.01,
      })),
    })
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0]
      if (req.method === 'POST' && path === '/v1/audio/transcriptions') {
        transcribe(req, res, Buffer.concat(chunks)).catch(() => fail(res, 500))
        return
      }
      json(res, 404, { error: { message: `Invalid URL (${req.method} ${path})`, type: 'invalid_request_error', param: null, code: null } })
    })
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`

  return {
    url,
    received,
    get requests() {
      return requests
    },
    get abandoned() {
      return abandoned
    },
    setTranscript(text, opts = {}) {
      fallback = { text, ...opts }
    },
    script: (...answers) => void queue.push(...answers),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** Wait, unless the client hangs up first (then true): an aborted request must not be answered. */
function waitOrHangUp(res: ServerResponse, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      res.off('close', onClose)
      resolve(false)
    }, ms)
    timer.unref()
    const onClose = () => {
      clearTimeout(timer)
      resolve(true)
    }
    res.on('close', onClose)
  })
}
