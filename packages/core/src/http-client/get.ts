import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { agents } from './agents.ts'
import { HttpClientError } from './index.ts'

export interface HttpGetAnswer {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
}

export interface HttpGetOptions {
  /** Largest answer read, in bytes: more is refused as it arrives (code `too_large`), never buffered whole. */
  maxBytes: number
  timeoutMs: number
  headers?: Record<string, string>
}

/**
 * GET a provider's file (a photo, a voice note, a recording) with a cap on its size and a timeout.
 * Redirects are not followed: the caller decides where credentials may go (Twilio's media URL
 * redirects to a CDN that must not see them). Never throws for an HTTP status; connection failures,
 * timeouts and oversized answers throw an HttpClientError whose message names no URL (a URL may
 * carry a token).
 *
 * @example
 * const { status, body } = await httpGet(url, { maxBytes: 5 * 1024 * 1024, timeoutMs: 10_000 })
 */
export function httpGet(url: string, { maxBytes, timeoutMs, headers = {} }: HttpGetOptions): Promise<HttpGetAnswer> {
  const target = new URL(url)
  const send = target.protocol === 'https:' ? httpsRequest : target.protocol === 'http:' ? httpRequest : undefined
  if (!send) return Promise.reject(new HttpClientError('bad_url', `unsupported protocol ${target.protocol}`))
  return new Promise((resolve, reject) => {
    const tooLarge = () => new HttpClientError('too_large', `the answer is larger than ${maxBytes} bytes`)
    const req = send(target, { method: 'GET', agent: agents[target.protocol as 'http:' | 'https:'], headers, timeout: timeoutMs }, (res) => {
      if (Number(res.headers['content-length']) > maxBytes) {
        res.destroy()
        reject(tooLarge())
        return
      }
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (chunk: Buffer) => {
        size += chunk.byteLength
        if (size > maxBytes) {
          res.destroy()
          reject(tooLarge())
        } else chunks.push(chunk)
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks, size) }))
      res.on('error', (err) => reject(new HttpClientError((err as NodeJS.ErrnoException).code ?? 'response_error', err.message)))
    })
    req.on('timeout', () => req.destroy(new HttpClientError('timeout', `no answer within ${timeoutMs} ms`)))
    req.on('error', (err) => reject(err instanceof HttpClientError ? err : new HttpClientError((err as NodeJS.ErrnoException).code ?? 'request_error', `${(err as NodeJS.ErrnoException).code ?? 'request_error'}: ${err.message}`)))
    req.end()
  })
}
