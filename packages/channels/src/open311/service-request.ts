import { z } from 'zod'
import type { Open311Error } from './format.ts'
import type { Open311Service } from './services.ts'

/** A POST requests body, parsed: the fields Intake keeps. */
export interface Open311ServiceRequest {
  apiKey: string | undefined
  jurisdictionId: string | undefined
  serviceCode: string
  lat: number | undefined
  long: number | undefined
  addressString: string | undefined
  addressId: string | undefined
  email: string | undefined
  deviceId: string | undefined
  accountId: string | undefined
  firstName: string | undefined
  lastName: string | undefined
  phone: string | undefined
  description: string
  mediaUrl: string | undefined
  /** attribute[code]=value; attribute[code][]=v1&attribute[code][]=v2 for a multivaluelist. */
  attributes: Record<string, string[]>
}

const MAX_DESCRIPTION = 4000
const EMAIL = z.email().max(254)
const PHONE = /^\+?[0-9][0-9 ()\-.]{2,38}$/

/** The form fields of a POST (urlencoded, as the spec says; multipart too). */
export async function readForm(body: Uint8Array, contentType: string): Promise<URLSearchParams | undefined> {
  if (/^\s*application\/x-www-form-urlencoded\b/i.test(contentType)) return new URLSearchParams(new TextDecoder().decode(body))
  if (/^\s*multipart\/form-data\b/i.test(contentType)) {
    try {
      const form = await new Response(new Uint8Array(body), { headers: { 'content-type': contentType } }).formData()
      const params = new URLSearchParams()
      for (const [k, v] of form) if (typeof v === 'string') params.append(k, v)
      return params
    } catch {
      return undefined
    }
  }
  return undefined
}

/** Empty means absent ("a null parameter should be treated as equivalent to a non-declared parameter"). */
const field = (form: URLSearchParams, name: string) => {
  const v = form.get(name)?.trim()
  return v ? v : undefined
}

function coordinate(raw: string | undefined, name: 'lat' | 'long', limit: number, errors: Open311Error[]): number | undefined {
  if (raw === undefined) return undefined
  const n = /^[+-]?\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN
  if (!Number.isFinite(n) || Math.abs(n) > limit) {
    errors.push({ status: 400, description: `${name} must be a number between -${limit} and ${limit} (WGS84), got "${raw.slice(0, 40)}"` })
    return undefined
  }
  return n
}

/**
 * Check a POST against the spec and the service's definition. Every problem is listed (the spec's
 * error list may carry several); an unknown service_code is a 404, everything else a 400.
 */
export function parseServiceRequest(form: URLSearchParams, services: ReadonlyMap<string, Open311Service>): { request: Open311ServiceRequest } | { errors: Open311Error[] } {
  const errors: Open311Error[] = []
  const serviceCode = field(form, 'service_code')
  const service = serviceCode ? services.get(serviceCode) : undefined
  if (!serviceCode) errors.push({ status: 400, description: 'service_code was not provided' })
  else if (!service) errors.push({ status: 404, description: `service_code "${serviceCode.slice(0, 60)}" was not found (GET services lists the codes)` })

  const latRaw = field(form, 'lat')
  const longRaw = field(form, 'long')
  const lat = coordinate(latRaw, 'lat', 90, errors)
  const long = coordinate(longRaw, 'long', 180, errors)
  if ((latRaw === undefined) !== (longRaw === undefined)) errors.push({ status: 400, description: 'lat and long must be sent together' })
  const addressString = field(form, 'address_string')
  const addressId = field(form, 'address_id')
  if (latRaw === undefined && longRaw === undefined && !addressString && !addressId) {
    errors.push({ status: 400, description: 'a location is required: lat and long, address_string, or address_id' })
  }
  if (addressString && addressString.length > 500) errors.push({ status: 400, description: 'address_string is longer than 500 characters' })

  const description = form.get('description')?.trim() ?? ''
  if ([...description].length > MAX_DESCRIPTION) errors.push({ status: 400, description: `description is longer than ${MAX_DESCRIPTION} characters` })
  const email = field(form, 'email')
  if (email && !EMAIL.safeParse(email).success) errors.push({ status: 400, description: 'email is not a valid email address' })
  const phone = field(form, 'phone')
  if (phone && !PHONE.test(phone)) errors.push({ status: 400, description: 'phone is not a valid phone number' })
  const mediaUrl = field(form, 'media_url')
  if (mediaUrl && (!/^https?:\/\/[^\s]+$/i.test(mediaUrl) || mediaUrl.length > 2000)) errors.push({ status: 400, description: 'media_url must be an http(s) URL' })

  const attributes: Record<string, string[]> = {}
  for (const [key, value] of form) {
    const m = /^attribute\[([^\]]+)\](\[\])?$/.exec(key)
    if (m && value.trim()) (attributes[m[1]!] ??= []).push(value.trim())
  }
  for (const a of service?.attributes ?? []) {
    const given = attributes[a.code] ?? []
    if (a.required && (a.variable ?? true) && given.length === 0) errors.push({ status: 400, description: `attribute[${a.code}] is required for service ${service!.code}: ${a.description}` })
    if (a.values && given.some((v) => !a.values!.some((option) => option.key === v))) {
      errors.push({ status: 400, description: `attribute[${a.code}] must be one of ${a.values.map((v) => v.key).join(', ')}` })
    }
    if (a.datatype === 'singlevaluelist' && given.length > 1) errors.push({ status: 400, description: `attribute[${a.code}] takes one value` })
    if (a.datatype === 'number' && given.some((v) => !Number.isFinite(Number(v)))) errors.push({ status: 400, description: `attribute[${a.code}] must be a number` })
  }
  if (errors.length) return { errors: errors.sort((a, b) => b.status - a.status) }
  return {
    request: {
      apiKey: field(form, 'api_key'),
      jurisdictionId: field(form, 'jurisdiction_id'),
      serviceCode: serviceCode!,
      lat,
      long,
      addressString,
      addressId,
      email,
      deviceId: field(form, 'device_id'),
      accountId: field(form, 'account_id'),
      firstName: field(form, 'first_name'),
      lastName: field(form, 'last_name'),
      phone,
      description,
      mediaUrl,
      attributes,
    },
  }
}
