import type { Open311ServiceRequest } from './service-request.ts'
import type { Open311Service } from './services.ts'

/**
 * A service request's facts the case has no field for (its point, its photo's URL, an address id,
 * the answers to the service's questions) are written under the description, where staff read them
 * in the console; GET requests reads them back from there.
 */
const MARK = '— Open311 —'

export function requestText(req: Open311ServiceRequest, service: Open311Service): string {
  const lines: string[] = []
  if (req.lat !== undefined && req.long !== undefined) lines.push(`lat/long: ${req.lat},${req.long}`)
  if (req.addressId) lines.push(`address_id: ${req.addressId}`)
  if (req.mediaUrl) lines.push(`media_url: ${req.mediaUrl}`)
  for (const [code, values] of Object.entries(req.attributes)) {
    const question = service.attributes.find((a) => a.code === code)
    const names = values.map((v) => question?.values?.find((o) => o.key === v)?.name ?? v)
    lines.push(`${question?.description ?? code}: ${names.join(', ')}`)
  }
  const description = req.description || service.name
  return lines.length ? `${description}\n\n${MARK}\n${lines.join('\n')}` : description
}

export interface RequestFacts {
  description: string
  lat?: number
  long?: number
  addressId?: string
  mediaUrl?: string
}

export function readRequestText(text: string): RequestFacts {
  const at = text.lastIndexOf(`\n\n${MARK}\n`)
  if (at < 0) return { description: text }
  const facts: RequestFacts = { description: text.slice(0, at) }
  for (const line of text.slice(at + MARK.length + 3).split('\n')) {
    const point = /^lat\/long: (-?[\d.]+),(-?[\d.]+)$/.exec(line)
    if (point) {
      facts.lat = Number(point[1])
      facts.long = Number(point[2])
    }
    const id = /^address_id: (.+)$/.exec(line)
    if (id) facts.addressId = id[1]
    const media = /^media_url: (\S+)$/.exec(line)
    if (media) facts.mediaUrl = media[1]
  }
  return facts
}
