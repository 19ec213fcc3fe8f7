import { randomUUID } from 'node:crypto'
import { tmpdir } from 'node:os'
import { Readable } from 'node:stream'
import { z } from 'zod'
import {
  cleanImage,
  pageLanguage,
  renderPage,
  type Attachment,
  type ChannelAdapter,
  type ChannelError,
  type Contact,
  type HandledOutcome,
  type Html,
  type InboundOutcome,
  type PageLanguage,
  type RawRequest,
  type RouteContext,
  type SendResult,
} from '@intake/core'
import {
  EMPTY_FORM,
  MAX_NAME_CHARS,
  MAX_PLACE_CHARS,
  TEXT,
  confirmationBody,
  formBody,
  langParam,
  rejectionBody,
  thanksBody,
  type FormField,
  type FormLimits,
  type FormValues,
} from './pages.ts'
import { readForm, type FormReading } from './read-form.ts'

export interface WebFormOptions {
  /** Photos one submission may carry (default 3; 0 hides the photo field). */
  maxPhotos?: number
  /** Largest photo, in bytes (default 5 MiB). */
  maxPhotoBytes?: number
  /** Longest message, in characters (default 5000). */
  maxTextChars?: number
  /** The form's heading, per language (default 在线提交诉求 / Submit a request). */
  title?: { 'zh-CN'?: string; en?: string }
  /** Page language when neither ?lang= nor the browser says (default zh-CN, the config's default locale). */
  locale?: PageLanguage
  /**
   * Submissions read at once (default 8). More wait their turn, unread, for up to 10 s, then get a
   * "try again" page: the memory uploads take stays under this many maximum-size bodies.
   */
  maxConcurrentUploads?: number
  /**
   * Where photos are written while the rest of a submission arrives, before they are checked
   * (default: the system's temporary folder). Each submission gets a folder of its own there,
   * removed when the submission is answered, stored or refused.
   */
  uploadDir?: string
}

export type ImageType = 'image/jpeg' | 'image/png' | 'image/webp'

/**
 * What the bytes really are. The declared type and the file name come from the citizen's device
 * (or from whoever forged the request) and prove nothing; the magic bytes do.
 */
export function sniffImageType(bytes: Uint8Array): ImageType | undefined {
  const at = (offset: number, ...expected: number[]) => expected.every((b, i) => bytes[offset + i] === b)
  if (at(0, 0xff, 0xd8, 0xff)) return 'image/jpeg'
  if (at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'image/png'
  // RIFF container: "RIFF", 4 bytes of length, then the form type "WEBP".
  if (at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return 'image/webp'
  return undefined
}

const SUBMISSION_ID = /^[A-Za-z0-9_-]{16,64}$/
const FORM_TYPES = /^\s*(multipart\/form-data|application\/x-www-form-urlencoded)\s*(;|$)/i
const EMAIL = z.email().max(254)
const PHONE = /^\+?[0-9][0-9 ()\-.]{2,38}$/
const EXTENSION: Record<ImageType, string> = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/webp': 'webp' }

const ERRORS = {
  'zh-CN': {
    unsupported_media_type: '请通过本页面的表单提交。',
    malformed_form: '表单内容无法读取，请重新填写后提交。',
    missing_submission: '表单不完整或已过期，请重新打开页面后再提交。',
    empty_message: '请写下您的诉求，或者附上至少一张照片。',
    text_too_long: (max: number, got: number) => `内容太长了：最多 ${max} 字，您写了 ${got} 字。`,
    place_too_long: `地点最多 ${MAX_PLACE_CHARS} 字。`,
    name_too_long: `姓名最多 ${MAX_NAME_CHARS} 字。`,
    invalid_photo: '照片需要通过“照片”一栏选择文件上传。',
    too_many_photos: (max: number) => `最多可以附 ${max} 张照片，您选的照片多于 ${max} 张。`,
    photo_too_large: (name: string, mb: string) => `照片“${name}”超过了 ${mb} MB，请换一张较小的照片。`,
    unsupported_photo: (name: string) => `“${name}”不是 JPEG、PNG 或 WebP 格式的图片。`,
    invalid_email: '电子邮箱地址的格式不对，应该像 name@example.com 这样。',
    invalid_phone: '电话号码只能包含数字、空格、“+”“-”和括号。',
    body_too_large: (mb: string) => `提交的内容太大了（照片加起来不能超过 ${mb} MB）。`,
    invalid_message: '提交的内容无法受理，请检查后重新提交。',
    busy: '现在提交的人很多，请稍等片刻后重新提交。您填写的内容没有保存。',
    rate_limited: '这个网络地址最近提交得太多了，请过一段时间再提交。您填写的内容没有保存；紧急情况请直接拨打热线电话。',
  },
  en: {
    unsupported_media_type: 'Please send the form from this page.',
    malformed_form: 'We could not read the form. Please fill it in and send it again.',
    missing_submission: 'This form is incomplete or out of date. Please open the page again and send it from there.',
    empty_message: 'Please write your message or attach at least one photo.',
    text_too_long: (max: number, got: number) => `Your message is too long: at most ${max} characters, and you wrote ${got}.`,
    place_too_long: `The place can be at most ${MAX_PLACE_CHARS} characters.`,
    name_too_long: `The name can be at most ${MAX_NAME_CHARS} characters.`,
    invalid_photo: 'Photos have to be chosen as files in the Photos field.',
    too_many_photos: (max: number) => `You can attach at most ${max} photos, and you chose more than that.`,
    photo_too_large: (name: string, mb: string) => `The photo "${name}" is larger than ${mb} MB. Please choose a smaller one.`,
    unsupported_photo: (name: string) => `"${name}" is not a JPEG, PNG or WebP image.`,
    invalid_email: 'That email address does not look right; it should look like name@example.com.',
    invalid_phone: 'A phone number may only have digits, spaces, "+", "-" and brackets.',
    body_too_large: (mb: string) => `What you sent is too large (all photos together must stay under ${mb} MB).`,
    invalid_message: 'We could not accept what you sent. Please check it and send it again.',
    busy: 'Many people are sending the form right now. Please wait a moment and send it again; nothing you wrote was kept.',
    rate_limited: 'Too many forms were sent from this network address recently. Please try again later; nothing you wrote was kept. If it is urgent, call the hotline.',
  },
} satisfies Record<PageLanguage, unknown>

/** Same rule as core's `pageLanguage`, for the hooks that get the raw request instead of a Hono context. */
function requestLanguage(req: RawRequest, fallback: PageLanguage, chosen?: string): PageLanguage {
  const asked = (chosen || req.url.searchParams.get('lang') || req.headers.get('accept-language') || fallback).trim()
  return /^zh/i.test(asked) ? 'zh-CN' : /^en/i.test(asked) ? 'en' : fallback
}

const megabytes = (bytes: number) => {
  const mb = bytes / (1024 * 1024)
  return Number.isInteger(mb) ? String(mb) : mb.toFixed(1)
}

/** A file name fit to keep: no path, no control characters, short enough for the attachment schema. */
function cleanFilename(name: string, index: number, type: ImageType): string {
  const base = (name.split(/[\\/]/).pop() ?? '').replace(/[\u0000-\u001f\u007f]/g, '').trim()
  return Array.from(base).slice(0, 120).join('') || `photo-${index + 1}.${EXTENSION[type]}`
}

function htmlResponse(body: Html, status: number): Response {
  // The confirmation carries the tracking code: a shared phone or kiosk must not show it from cache.
  const headers = { 'content-type': 'text/html; charset=UTF-8', 'cache-control': 'no-store' }
  if (!(body instanceof Promise)) return new Response(String(body), { status, headers })
  const encoder = new TextEncoder()
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(encoder.encode(String(await body)))
      controller.close()
    },
  })
  return new Response(stream, { status, headers })
}

/** What parse learned about a request, for `reject`, which is synchronous and only gets the raw bytes. */
interface SubmissionState {
  lang: PageLanguage
  values: FormValues
  submission?: string
  field?: FormField
  /** Photos that passed the checks, for the confirmation's summary. */
  photos: number
}

/**
 * The citizen-facing web form: a page in Chinese and English at `/channels/:id/`, posting
 * multipart/form-data to `/channels/:id/submit`. Each submission is its own case, acknowledged with
 * a confirmation page that shows the tracking code and links to the status page.
 *
 * A public form has no provider signature to verify; it is protected by the body limit, by checking
 * every photo's magic bytes, and by a honeypot field that humans never see.
 *
 * @example
 * defineConfig({ channels: { web: webForm({ maxPhotos: 5, title: { 'zh-CN': '12345 网上留言' } }) }, ... })
 */
export function webForm({
  maxPhotos = 3,
  maxPhotoBytes = 5 * 1024 * 1024,
  maxTextChars = 5000,
  title,
  locale = 'zh-CN',
  maxConcurrentUploads = 8,
  uploadDir = tmpdir(),
}: WebFormOptions = {}): ChannelAdapter {
  if (!Number.isInteger(maxPhotos) || maxPhotos < 0 || maxPhotos > 20) {
    throw new Error(`[web-form] maxPhotos: expected a whole number from 0 to 20 (a message carries at most 20 attachments), got ${maxPhotos}`)
  }
  if (!Number.isInteger(maxPhotoBytes) || maxPhotoBytes < 1024 || maxPhotoBytes > 50 * 1024 * 1024) {
    throw new Error(`[web-form] maxPhotoBytes: expected a whole number of bytes from 1 KiB to 50 MiB, got ${maxPhotoBytes}`)
  }
  if (!Number.isInteger(maxTextChars) || maxTextChars < 1 || maxTextChars > 20_000) {
    throw new Error(`[web-form] maxTextChars: expected a whole number from 1 to 20000 (the longest message Intake stores), got ${maxTextChars}`)
  }
  for (const [lang, value] of Object.entries(title ?? {})) {
    if (lang !== 'zh-CN' && lang !== 'en') throw new Error(`[web-form] title: languages are "zh-CN" and "en", got "${lang}"`)
    if (typeof value !== 'string' || !value.trim() || value.length > 200) {
      throw new Error(`[web-form] title.${lang}: expected a non-empty text of at most 200 characters`)
    }
  }
  if (!Number.isInteger(maxConcurrentUploads) || maxConcurrentUploads < 1 || maxConcurrentUploads > 1000) {
    throw new Error(`[web-form] maxConcurrentUploads: expected a whole number from 1 to 1000, got ${maxConcurrentUploads}`)
  }
  if (locale !== 'zh-CN' && locale !== 'en') throw new Error(`[web-form] locale: expected "zh-CN" or "en", got "${String(locale)}"`)

  const limits: FormLimits = { maxPhotos, maxPhotoBytes, maxTextChars }
  // The photos plus 64 KiB for the text, the other fields and the multipart framing; a text limit
  // raised past what 64 KiB holds (4 UTF-8 bytes per character at worst) widens that room.
  const maxBodyBytes = maxPhotos * maxPhotoBytes + Math.max(64 * 1024, 4 * maxTextChars + 16 * 1024)
  // The longest text field, in UTF-8 bytes at worst (4 a character), plus one character: a longer
  // one arrives cut, and is refused as too long.
  const maxFieldBytes = 4 * (maxTextChars + 1)
  const titleOf = (lang: PageLanguage) => title?.[lang] ?? TEXT[lang].title
  // reject() cannot re-read the body, so parse leaves what it understood here; keyed weakly by the
  // request object core hands to both hooks, so nothing outlives the request.
  const seen = new WeakMap<RawRequest, SubmissionState>()

  async function parseSubmission(req: RawRequest, ctx: RouteContext): Promise<InboundOutcome> {
    const contentType = req.headers.get('content-type') ?? ''
    const early = requestLanguage(req, locale)
    if (!FORM_TYPES.test(contentType)) {
      return { rejected: { status: 415, code: 'unsupported_media_type', message: ERRORS[early].unsupported_media_type } }
    }
    const reading = await readForm(req.stream ?? Readable.from([req.body]), {
      contentType,
      limits: { maxPhotos, maxPhotoBytes, maxFieldBytes, maxFields: 32 },
      photoField: 'photos',
      tempDir: uploadDir,
      // Refused as soon as they arrive, before the photos behind them are read.
      stopAt: (name, value, truncated) =>
        (name === 'submission' && !SUBMISSION_ID.test(value)) ||
        (name === 'text' && (truncated || Array.from(value).length > maxTextChars)) ||
        (name === 'place' && (truncated || Array.from(value.trim()).length > MAX_PLACE_CHARS)),
      looksLikePhoto: (head) => sniffImageType(head) !== undefined,
    })
    try {
      return await checkSubmission(req, ctx, reading)
    } finally {
      await reading.discard()
    }
  }

  async function checkSubmission(req: RawRequest, ctx: RouteContext, reading: FormReading): Promise<InboundOutcome> {
    const { fields, stopped } = reading
    const field = (name: string) => fields.get(name) ?? ''
    const lang = requestLanguage(req, locale, field('lang'))
    const e = ERRORS[lang]
    const anonymous = field('anonymous') !== ''
    // Browsers send newlines as CRLF (HTML form submission rules); the citizen typed plain line breaks.
    const text = field('text').replace(/\r\n?/g, '\n')
    const values: FormValues = {
      text,
      place: field('place').trim(),
      name: field('name').trim(),
      email: field('email').trim(),
      // Chinese input methods often type full-width digits (１３８…); NFKC makes them ASCII.
      phone: field('phone').normalize('NFKC').trim(),
      anonymous,
    }
    const submission = field('submission')
    const state: SubmissionState = { lang, values, submission: SUBMISSION_ID.test(submission) ? submission : undefined, photos: 0 }
    seen.set(req, state)
    const refuse = (status: ChannelError['status'], code: string, message: string, at?: FormField): InboundOutcome => {
      state.field = at
      return { rejected: { status, code, message } }
    }

    if (stopped?.reason === 'malformed') return refuse(400, 'malformed_form', e.malformed_form)
    if (!state.submission) return refuse(400, 'missing_submission', e.missing_submission)
    // Bots fill every field they find; people never see this one. Answer as if all went well.
    if (field('website') !== '') return { ignored: 'honeypot filled' }

    const textChars = Array.from(text).length
    if (textChars > maxTextChars) return refuse(400, 'text_too_long', e.text_too_long(maxTextChars, textChars), 'text')
    if (Array.from(values.place).length > MAX_PLACE_CHARS) return refuse(400, 'place_too_long', e.place_too_long, 'place')
    if (stopped?.reason === 'text_in_photo_field') return refuse(400, 'invalid_photo', e.invalid_photo, 'photos')
    if (stopped?.reason === 'too_many_photos') return refuse(400, 'too_many_photos', e.too_many_photos(maxPhotos), 'photos')
    if (stopped?.reason === 'photo_too_large') return refuse(413, 'photo_too_large', e.photo_too_large(stopped.filename, megabytes(maxPhotoBytes)), 'photos')
    if (stopped?.reason === 'not_a_photo') return refuse(415, 'unsupported_photo', e.unsupported_photo(stopped.filename || `#${stopped.index + 1}`), 'photos')
    if (stopped) return refuse(400, 'malformed_form', e.malformed_form)
    if (!anonymous && Array.from(values.name).length > MAX_NAME_CHARS) return refuse(400, 'name_too_long', e.name_too_long, 'name')

    const photos = reading.photos.filter((p) => p.size > 0 || p.filename !== '')
    if (!text.trim() && photos.length === 0) return refuse(400, 'empty_message', e.empty_message, 'text')
    // The cheap checks first: a form refused for its text or its contact decodes no photo.
    let contact: Contact | undefined
    if (!anonymous) {
      if (values.email && !EMAIL.safeParse(values.email).success) return refuse(400, 'invalid_email', e.invalid_email, 'email')
      if (values.phone && !PHONE.test(values.phone)) return refuse(400, 'invalid_phone', e.invalid_phone, 'phone')
      const given = { name: values.name || undefined, email: values.email || undefined, phone: values.phone || undefined }
      if (given.name || given.email || given.phone) contact = given
    }
    const checked: { bytes: Uint8Array; type: ImageType; name: string }[] = []
    for (const [index, photo] of photos.entries()) {
      // The first bytes said what it claims to be; decoding the whole of it says whether it is.
      const cleaned = await cleanImage({ file: photo.file })
      if (!cleaned.ok) return refuse(415, 'unsupported_photo', e.unsupported_photo(photo.filename || `#${index + 1}`), 'photos')
      checked.push({ bytes: cleaned.bytes, type: cleaned.contentType, name: cleanFilename(photo.filename, index, cleaned.contentType) })
    }
    state.photos = checked.length

    // Only now, with everything checked, do photos reach storage: a refused form leaves no bytes behind.
    const attachments: Attachment[] = []
    for (const photo of checked) {
      const blobKey = await ctx.blobs.put(photo.bytes)
      attachments.push({ filename: photo.name, contentType: photo.type, size: photo.bytes.byteLength, blobKey, sha256: blobKey })
    }
    const place = values.place ? { text: values.place } : undefined
    return {
      messages: [
        {
          channelId: ctx.channelId,
          externalId: `web-${state.submission}`,
          // Each submission is its own sender: a public form cannot tell two citizens apart, so their
          // messages must never be merged into one case by "same sender, open case".
          from: { channelId: ctx.channelId, id: `web:${state.submission}`, ...(contact?.name ? { displayName: contact.name } : {}) },
          text,
          attachments,
          place,
          contact,
          anonymous,
          language: lang,
          receivedAt: ctx.now(),
          // The form as received, minus the photo bytes (they are in the blob store) and, for an
          // anonymous citizen, minus whatever contact they typed before ticking the box.
          raw: {
            submission: state.submission,
            lang,
            text,
            place: values.place,
            anonymous,
            contact: contact ?? null,
            photos: attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, size: a.size, blobKey: a.blobKey })),
          },
        },
      ],
    }
  }

  function respondWithConfirmation(handled: HandledOutcome, req: RawRequest, ctx: RouteContext): Response {
    const state = seen.get(req)
    const lang = state?.lang ?? requestLanguage(req, locale)
    const result = handled.kind === 'messages' ? handled.results[0] : undefined
    if (!result) return htmlResponse(renderPage({ lang, title: TEXT[lang].thanksTitle, body: thanksBody(lang), branding: ctx.branding }), 200)
    const t = TEXT[lang]
    const body = confirmationBody({
      lang,
      trackingCode: result.trackingCode,
      followUp: result.followUp,
      sent: state && { text: state.values.text, place: state.values.place, photos: state.photos },
    })
    // A double click or a browser resubmit is a duplicate: the same confirmation, but nothing new was created.
    return htmlResponse(renderPage({ lang, title: result.followUp ? t.addedTitle : t.receivedTitle, body, branding: ctx.branding }), result.duplicate ? 200 : 201)
  }

  function rejectWithPage(error: ChannelError, req: RawRequest, ctx: RouteContext): Response {
    const state = seen.get(req)
    const lang = state?.lang ?? requestLanguage(req, locale)
    // Core refuses some requests before (or after) parse runs; say those in the citizen's language too.
    const message =
      error.code === 'body_too_large'
        ? ERRORS[lang].body_too_large(megabytes(maxBodyBytes))
        : error.code === 'invalid_message'
          ? ERRORS[lang].invalid_message
          : error.code === 'busy' || error.code === 'rate_limited'
            ? ERRORS[lang][error.code]
            : error.message
    const body = state
      ? formBody({
          lang,
          basePath: ctx.basePath,
          title: titleOf(lang),
          limits,
          submission: state.submission ?? randomUUID(),
          values: state.values,
          error: { message, field: state.field },
        })
      : rejectionBody({ lang, basePath: ctx.basePath, message })
    return htmlResponse(renderPage({ lang, title: TEXT[lang].failedTitle, body, branding: ctx.branding }), error.status)
  }

  return {
    kind: 'web-form',
    capabilities: { media: true },
    pages: [
      {
        method: 'GET',
        path: '/',
        handle: function showForm(c, ctx) {
          const lang = pageLanguage(c, locale)
          // A fresh id per rendered form: a double click or a resubmit carries the same id and makes one
          // case, while going back to the form (not cached) starts a new submission.
          c.header('cache-control', 'no-store')
          return c.html(
            renderPage({
              lang,
              title: titleOf(lang),
              body: formBody({ lang, basePath: ctx.basePath, title: titleOf(lang), limits, submission: randomUUID(), values: EMPTY_FORM }),
              langSwitchPath: `${ctx.basePath}/`,
              branding: ctx.branding,
            }),
          )
        },
      },
      {
        method: 'GET',
        path: '',
        handle: function redirectToForm(c, ctx) {
          const lang = c.req.query('lang')
          return c.redirect(`${ctx.basePath}/${lang ? `?lang=${encodeURIComponent(lang)}` : ''}`, 301)
        },
      },
      {
        // Someone who opens the submit address itself (a bookmark, a copied link) gets the form.
        method: 'GET',
        path: '/submit',
        handle: function submitIsNotAPage(c, ctx) {
          return c.redirect(`${ctx.basePath}/?lang=${langParam(pageLanguage(c, locale))}`, 303)
        },
      },
    ],
    routes: [
      {
        method: 'POST',
        path: '/submit',
        maxBodyBytes,
        maxConcurrent: maxConcurrentUploads,
        // No provider signature: anyone may post, so each client address has a budget (config `submissions`).
        perAddress: true,
        // Read as it arrives: photos go to files, and a form over a limit is refused before it has all arrived.
        streamsBody: true,
        parse: parseSubmission,
        respond: respondWithConfirmation,
        reject: rejectWithPage,
      },
    ],

    async send(msg): Promise<SendResult> {
      // Replies to a web-form case are shown on the status page (core renders the case's outbound
      // messages and events there), so there is nothing to deliver. Email to the contact a citizen
      // left on the form comes with the email channel.
      return { ok: true, providerId: `web:${msg.id}` }
    },
  }
}
