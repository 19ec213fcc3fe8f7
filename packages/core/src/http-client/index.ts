import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { agents } from './agents.ts'

export interface HttpAnswer {
  status: number
  headers: IncomingHttpHeaders
  text: string
}

export interface HttpPostOptions {
  headers?: Record<string, string>
  timeoutMs?: number
  /** Largest answer kept, in bytes (default 64 KiB): a provider's answer is a status, not a download. */
  maxAnswerBytes?: number
}

/** A connection failure, a timeout or an oversized answer: the adapter classifies it as `connection`. */
export class HttpClientError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}


/** POST a body to a provider or callback and read its answer; never throws for an HTTP status. */
export function httpPost(url: string, body: string | Uint8Array, { headers = {}, timeoutMs = 10_000, maxAnswerBytes = 64 * 1024 }: HttpPostOptions = {}): Promise<HttpAnswer> {
  const target = new URL(url)
  const send = target.protocol === 'https:' ? httpsRequest : target.protocol === 'http:' ? httpRequest : undefined
  if (!send) return Promise.reject(new HttpClientError('bad_url', `unsupported protocol ${target.protocol}`))
  const bytes = typeof body === 'string' ? Buffer.from(body) : body
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      {
        method: 'POST',
        agent: agents[target.protocol as 'http:' | 'https:'],
        headers: { ...headers, 'content-length': String(bytes.byteLength) },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (chunk: Buffer) => {
          size += chunk.byteLength
          if (size <= maxAnswerBytes) chunks.push(chunk)
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }))
        res.on('error', (err) => reject(new HttpClientError((err as NodeJS.ErrnoException).code ?? 'response_error', err.message)))
      },
    )
    req.on('timeout', () => req.destroy(new HttpClientError('timeout', `no answer within ${timeoutMs} ms`)))
    req.on('error', (err) => reject(err instanceof HttpClientError ? err : new HttpClientError((err as NodeJS.ErrnoException).code ?? 'request_error', err.message)))
    req.end(bytes)
  })
}
