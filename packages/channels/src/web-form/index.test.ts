import { createHash } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { imageFacts, jpegPhoto, kitGateway, pngImage, testChannel, type KitGateway } from '../kit/index.ts'
import { sniffImageType, webForm } from './index.ts'

const png = pngImage

// An 8×8 JPEG (blue with a yellow square) encoded by Chromium 14x's canvas.toDataURL('image/jpeg', 0.7).
const JPEG = new Uint8Array(
  Buffer.from(
    '/9j/4AAQSkZJRgABAQAAAQABAAD/4gHYSUNDX1BST0ZJTEUAAQEAAAHIAAAAAAQwAABtbnRyUkdCIFhZWiAH4AABAAEAAAAAAABhY3NwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQAA9tYAAQAAAADTLQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAlkZXNjAAAA8AAAACRyWFlaAAABFAAAABRnWFlaAAABKAAAABRiWFlaAAABPAAAABR3dHB0AAABUAAAABRyVFJDAAABZAAAAChnVFJDAAABZAAAAChiVFJDAAABZAAAAChjcHJ0AAABjAAAADxtbHVjAAAAAAAAAAEAAAAMZW5VUwAAAAgAAAAcAHMAUgBHAEJYWVogAAAAAAAAb6IAADj1AAADkFhZWiAAAAAAAABimQAAt4UAABjaWFlaIAAAAAAAACSgAAAPhAAAts9YWVogAAAAAAAA9tYAAQAAAADTLXBhcmEAAAAAAAQAAAACZmYAAPKnAAANWQAAE9AAAApbAAAAAAAAAABtbHVjAAAAAAAAAAEAAAAMZW5VUwAAACAAAAAcAEcAbwBvAGcAbABlACAASQBuAGMALgAgADIAMAAxADb/2wBDAAoHBwgHBgoICAgLCgoLDhgQDg0NDh0VFhEYIx8lJCIfIiEmKzcvJik0KSEiMEExNDk7Pj4+JS5ESUM8SDc9Pjv/2wBDAQoLCw4NDhwQEBw7KCIoOzs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozv/wAARCAAIAAgDASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAL/xAAbEAEAAAcAAAAAAAAAAAAAAAAAFSUxUmSCkf/EABQBAQAAAAAAAAAAAAAAAAAAAAb/xAAfEQABAgYDAAAAAAAAAAAAAAABAxEAAhIhQWETIlH/2gAMAwEAAhEDEQA/AKlkGztruUALEEOGrsZqiTcuz4HgGBB1RStrAMGtnZ3H/9k=',
    'base64',
  ),
)
const PNG = png(4, 3, [42, 122, 226])

interface FormFields {
  submission?: string
  text?: string
  place?: string
  name?: string
  email?: string
  phone?: string
  anonymous?: boolean
  website?: string
  lang?: string
  photos?: { name: string; type: string; bytes: Uint8Array }[]
}

let counter = 0
const freshSubmission = () => `test-submission-${String(++counter).padStart(6, '0')}`

/** A multipart POST like the browser sends it from the form (fetch encodes FormData with a boundary). */
function submit(channelUrl: string, fields: FormFields, submission: string | null = fields.submission ?? freshSubmission()): Request {
  const form = new FormData()
  if (submission !== null) form.set('submission', submission)
  form.set('lang', fields.lang ?? 'zh-CN')
  form.set('text', fields.text ?? '')
  form.set('place', fields.place ?? '')
  form.set('name', fields.name ?? '')
  form.set('email', fields.email ?? '')
  form.set('phone', fields.phone ?? '')
  if (fields.anonymous) form.set('anonymous', '1')
  form.set('website', fields.website ?? '')
  for (const p of fields.photos ?? []) form.append('photos', new File([p.bytes.slice()], p.name, { type: p.type }))
  return new Request(`${channelUrl}/submit?lang=${fields.lang === 'en' ? 'en' : 'zh'}`, { method: 'POST', body: form })
}

testChannel({
  name: 'web-form',
  adapter: () => webForm(),
  fixtures: {
    valid: [
      { name: 'text only', messages: 1, text: '巴仁镇的路灯坏了一个月了', request: (u) => submit(u, { submission: 'fixture-text-only-0001', text: '巴仁镇的路灯坏了一个月了', place: '伽师县巴仁镇' }) },
      { name: 'text and a PNG photo', messages: 1, text: 'pothole', request: (u) => submit(u, { text: 'A pothole on Jiefang Road', lang: 'en', photos: [{ name: 'road.png', type: 'image/png', bytes: PNG }] }) },
      { name: 'text and a JPEG photo', messages: 1, text: '河道', request: (u) => submit(u, { text: '河道里堆满了垃圾', photos: [{ name: '河道.jpg', type: 'image/jpeg', bytes: JPEG }] }) },
      { name: 'emoji and 4-byte UTF-8', messages: 1, text: '𠮷野家 😀', request: (u) => submit(u, { text: '𠮷野家 😀 门口积水' }) },
      { name: 'a photo with empty text', messages: 1, request: (u) => submit(u, { text: '', photos: [{ name: 'IMG_0001.png', type: 'image/png', bytes: PNG }] }) },
      {
        name: 'urlencoded (a form posted without photos)',
        messages: 1,
        text: '噪音扰民',
        request: (u) =>
          new Request(`${u}/submit`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ submission: freshSubmission(), text: '夜里工地噪音扰民', lang: 'zh-CN', website: '' }).toString(),
          }),
      },
    ],
    malformed: [
      { name: 'wrong content type', status: 415, request: (u) => new Request(`${u}/submit`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' }) },
      { name: 'JSON instead of a form', status: 415, request: (u) => new Request(`${u}/submit`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"hi"}' }) },
      { name: 'missing submission id', status: 400, request: (u) => submit(u, { text: '路灯坏了' }, null) },
      { name: 'invalid submission id', status: 400, request: (u) => submit(u, { text: '路灯坏了' }, '../../etc') },
      { name: 'empty text without photo', status: 400, request: (u) => submit(u, { text: '  \n ' }) },
      { name: 'non-image bytes named photo.jpg', status: 415, request: (u) => submit(u, { text: '看照片', photos: [{ name: 'photo.jpg', type: 'image/jpeg', bytes: new TextEncoder().encode('<?php system($_GET["c"]); ?>') }] }) },
      { name: 'too many photos', status: 400, request: (u) => submit(u, { text: '四张照片', photos: [1, 2, 3, 4].map((i) => ({ name: `p${i}.png`, type: 'image/png', bytes: PNG })) }) },
      {
        name: 'a photo over the limit',
        status: 413,
        request: (u) => {
          const big = new Uint8Array(5 * 1024 * 1024 + 1)
          big.set(PNG)
          return submit(u, { text: '大照片', photos: [{ name: 'big.png', type: 'image/png', bytes: big }] })
        },
      },
      { name: 'text too long', status: 400, request: (u) => submit(u, { text: '长'.repeat(5001) }) },
      { name: 'a bad email address', status: 400, request: (u) => submit(u, { text: '路灯坏了', email: 'not-an-email' }) },
      { name: 'a bad phone number', status: 400, request: (u) => submit(u, { text: '路灯坏了', phone: 'call me maybe' }) },
      {
        name: 'a broken multipart body',
        status: 400,
        request: (u) => new Request(`${u}/submit`, { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=abc' }, body: '--abc\r\nnot a part' }),
      },
    ],
    sendErrors: [],
    sendOk: {
      verify: (sent, providerId) => {
        expect(providerId).toBe(`web:${sent.id}`)
      },
    },
    secrets: [],
    skip: {
      signature: 'a public form has no provider signature; it is protected by the body size limit, photo type sniffing and the honeypot field',
      provider: 'a web form has no provider to reach: replies are shown on the citizen\'s status page, so nothing goes over the network',
    },
  },
})

describe('webForm options', () => {
  it('refuses a misconfiguration when the factory is called', () => {
    expect(() => webForm({ maxPhotos: -1 })).toThrow(/\[web-form\] maxPhotos/)
    expect(() => webForm({ maxPhotos: 21 })).toThrow(/maxPhotos/)
    expect(() => webForm({ maxPhotos: 1.5 })).toThrow(/maxPhotos/)
    expect(() => webForm({ maxPhotoBytes: 0 })).toThrow(/maxPhotoBytes/)
    expect(() => webForm({ maxTextChars: 0 })).toThrow(/maxTextChars/)
    expect(() => webForm({ maxTextChars: 30_000 })).toThrow(/maxTextChars/)
    expect(() => webForm({ title: { en: '  ' } })).toThrow(/title\.en/)
    expect(() => webForm({ locale: 'fr' as 'en' })).toThrow(/locale/)
  })

  it('sizes the body limit from the photo limits', () => {
    const route = webForm({ maxPhotos: 2, maxPhotoBytes: 1024 * 1024 }).routes!.find((r) => r.path === '/submit')!
    expect(route.maxBodyBytes).toBe(2 * 1024 * 1024 + 64 * 1024)
  })
})

describe('sniffImageType', () => {
  it('trusts the magic bytes, not the name or declared type', () => {
    expect(sniffImageType(PNG)).toBe('image/png')
    expect(sniffImageType(JPEG)).toBe('image/jpeg')
    expect(sniffImageType(new Uint8Array([0x52, 0x49, 0x46, 0x46, 1, 2, 3, 4, 0x57, 0x45, 0x42, 0x50, 0x56, 0x50, 0x38]))).toBe('image/webp')
    expect(sniffImageType(new TextEncoder().encode('GIF89a....'))).toBeUndefined()
    expect(sniffImageType(new Uint8Array([0x52, 0x49, 0x46, 0x46, 1, 2, 3, 4, 0x57, 0x41, 0x56, 0x45]))).toBeUndefined() // a WAV file
    expect(sniffImageType(new Uint8Array([0xff, 0xd8]))).toBeUndefined()
    expect(sniffImageType(new Uint8Array())).toBeUndefined()
  })
})

describe('web form', () => {
  let gw: KitGateway
  beforeEach(async () => {
    gw = await kitGateway(webForm(), 'web')
  })
  afterEach(async () => {
    await gw.close()
  })

  const cases = async () => (await gw.intake.store.listCases({ limit: 500 })).cases
  const getForm = async (headers: Record<string, string> = {}, query = '') => {
    const res = await gw.fetch(new Request(`${gw.channelUrl}/${query}`, { headers }))
    expect(res.status).toBe(200)
    return { res, body: await res.text() }
  }
  const codeOn = (body: string) => /<span class="code"[^>]*>([^<]+)<\/span>/.exec(body)?.[1]

  it('serves the form in the deployment language, with every control labelled', async () => {
    const { res, body } = await getForm()
    expect(res.headers.get('content-type')).toMatch(/text\/html/)
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(body).toContain('<html lang="zh-CN">')
    expect(body).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">')
    expect(body).toMatch(/<form method="post" action="\/channels\/web\/submit\?lang=zh" enctype="multipart\/form-data"/)

    const controls = [...body.matchAll(/<(input|textarea|select)\b([^>]*)>/g)].map((m) => m[2]!).filter((attrs) => !/type="hidden"/.test(attrs))
    expect(controls.length).toBe(8) // text, place, photos, name, email, phone, anonymous, honeypot
    for (const attrs of controls) {
      const id = /\bid="([^"]+)"/.exec(attrs)?.[1]
      expect(id, `control without an id: ${attrs}`).toBeDefined()
      expect(body, `no <label for="${id}">`).toMatch(new RegExp(`<label[^>]* for="${id}"`))
      for (const ref of /aria-describedby="([^"]+)"/.exec(attrs)?.[1]?.split(' ') ?? []) expect(body).toContain(`id="${ref}"`)
    }
    expect(body).toMatch(/<textarea id="text" name="text"[^>]*aria-describedby="text-hint"/)
    expect(body).toMatch(/<label for="text">您的诉求<span class="hint">（必填）<\/span><\/label>/)
    expect(body).toMatch(/<input type="file" id="photos" name="photos" accept="image\/jpeg,image\/png,image\/webp" multiple/)
    expect(body).toMatch(/<div class="hp" aria-hidden="true">\s*<label for="website">[^<]+<\/label>\s*<input type="text" id="website" name="website" value="" tabindex="-1" autocomplete="off">/)
    expect(body).toMatch(/<input type="hidden" name="lang" value="zh-CN">/)
    expect(body).toMatch(/<input type="checkbox" id="anonymous" name="anonymous"/)
  })

  it('gives every rendered form a fresh submission id', async () => {
    const id = (body: string) => /name="submission" value="([^"]+)"/.exec(body)?.[1]
    const first = id((await getForm()).body)
    const second = id((await getForm()).body)
    expect(first).toMatch(/^[0-9a-f-]{36}$/)
    expect(second).toMatch(/^[0-9a-f-]{36}$/)
    expect(first).not.toBe(second)
  })

  it('speaks English when asked by ?lang= or by the browser, and Chinese when asked', async () => {
    const byQuery = (await getForm({}, '?lang=en')).body
    expect(byQuery).toContain('<html lang="en">')
    expect(byQuery).toContain('<label for="text">Your message<span class="hint"> (required)</span></label>')
    expect(byQuery).toContain('<input type="hidden" name="lang" value="en">')
    expect(byQuery).toContain('action="/channels/web/submit?lang=en"')
    expect(byQuery).toContain('href="/channels/web/?lang=zh" lang="zh">中文</a>')

    const byBrowser = (await getForm({ 'accept-language': 'en-GB,en;q=0.9' })).body
    expect(byBrowser).toContain('<html lang="en">')
    const chinese = (await getForm({ 'accept-language': 'en-GB' }, '?lang=zh')).body
    expect(chinese).toContain('<html lang="zh-CN">')
    expect(chinese).toContain('<label for="text">您的诉求')
  })

  it('uses the configured title', async () => {
    await gw.close()
    gw = await kitGateway(webForm({ title: { 'zh-CN': '12345 网上留言', en: 'City hotline' } }), 'web')
    expect((await getForm()).body).toContain('<h1>12345 网上留言</h1>')
    expect((await getForm({}, '?lang=en')).body).toMatch(/<title>City hotline( · [^<]+)?<\/title>/)
  })

  it('confirms with a tracking code that exists, a status link and what happens next', async () => {
    const res = await gw.fetch(submit(gw.channelUrl, { text: 'The street light outside No. 12 is broken', place: 'Jiefang Road 12', lang: 'en' }))
    expect(res.status).toBe(201)
    const body = await res.text()
    expect(body).toContain('<html lang="en">')
    const code = codeOn(body)!
    expect(code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}$/)
    const [kase] = await cases()
    expect(kase?.trackingCode).toBe(code)
    expect(kase?.place).toBe('Jiefang Road 12')
    expect(kase?.language).toBe('en')
    expect(kase?.citizen.id).toMatch(/^web:test-submission-/)
    expect(body).toContain(`href="/status/${code}?lang=en"`)
    expect(body).toContain('passed on to the office responsible')
    expect(body).toContain('What happens next')

    const status = await gw.fetch(new Request(`http://intake.test/status/${code}?lang=en`))
    expect(status.status).toBe(200)
    expect(await status.text()).toContain(code)
  })

  it('confirms in Chinese for a Chinese form', async () => {
    const res = await gw.fetch(submit(gw.channelUrl, { text: '路灯坏了', lang: 'zh-CN' }))
    const body = await res.text()
    expect(body).toContain('<html lang="zh-CN">')
    expect(body).toContain('您的查询编号')
    expect(body).toContain(`href="/status/${codeOn(body)}?lang=zh"`)
  })

  it('makes one case when the same submission arrives twice (double click, browser resubmit)', async () => {
    const submission = freshSubmission()
    const first = await gw.fetch(submit(gw.channelUrl, { submission, text: '小区门口积水' }))
    const second = await gw.fetch(submit(gw.channelUrl, { submission, text: '小区门口积水' }))
    expect(first.status).toBe(201)
    expect(second.status).toBe(200)
    expect(codeOn(await second.text())).toBe(codeOn(await first.text()))
    expect(await cases()).toHaveLength(1)
    expect(await gw.intake.store.listOutbox({})).toHaveLength(1)
  })

  it('never merges two citizens who use the form: each submission is its own case', async () => {
    await gw.fetch(submit(gw.channelUrl, { text: '路灯坏了' }))
    await gw.fetch(submit(gw.channelUrl, { text: '路灯坏了' }))
    expect(await cases()).toHaveLength(2)
  })

  it('opens a related case for a submission that quotes a tracking code: a form cannot show it comes from that case\'s citizen', async () => {
    const first = codeOn(await (await gw.fetch(submit(gw.channelUrl, { text: '路灯坏了', lang: 'en' }))).text())!
    const res = await gw.fetch(submit(gw.channelUrl, { text: `About ${first}: it is still broken`, lang: 'en' }))
    expect(res.status).toBe(201)
    const second = codeOn(await res.text())!
    expect(second).not.toBe(first)
    expect(await cases()).toHaveLength(2)
    const kase = (await gw.intake.store.getCaseByTrackingCode(second))!
    const related = (await gw.intake.store.listEvents(kase.id)).find((e) => e.type === 'related')
    expect(related?.data.trackingCode).toBe(first)
  })

  it('thanks a bot that filled the honeypot and keeps nothing', async () => {
    const res = await gw.fetch(submit(gw.channelUrl, { text: 'cheap pills', website: 'http://spam.example', photos: [{ name: 'a.png', type: 'image/png', bytes: PNG }] }))
    expect(res.status).toBe(200)
    const body = await res.text()
    expect(body).toContain('谢谢')
    expect(codeOn(body)).toBeUndefined()
    expect(await cases()).toHaveLength(0)
    expect(await gw.intake.blobs.get(createHash('sha256').update(PNG).digest('hex'))).toBeUndefined()
    expect(gw.intake.metrics.render()).toMatch(/intake_inbound_ignored_total\{[^}]*channelId="web"/)
  })

  it('stores markup as the citizen wrote it and escapes it on every page', async () => {
    const text = '<script>alert(1)</script> & "quotes"'
    const res = await gw.fetch(submit(gw.channelUrl, { text, place: '<b>here</b>' }))
    const body = await res.text()
    expect(body).not.toContain('<script>alert(1)</script>')
    expect(body).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;')
    expect(body).toContain('&lt;b&gt;here&lt;/b&gt;')
    const [kase] = await cases()
    const [message] = await gw.intake.store.listMessages(kase!.id)
    expect(message?.text).toBe(text)
    expect(kase?.place).toBe('<b>here</b>')

    const status = await (await gw.fetch(new Request(`http://intake.test/status/${kase!.trackingCode}`))).text()
    expect(status).toContain(kase!.trackingCode)
    expect(status).not.toContain('<script>alert(1)</script>')
    expect(status).not.toContain('<b>here</b>')

    // A refused form comes back filled in, and the text is escaped there too.
    const refused = await gw.fetch(submit(gw.channelUrl, { text, email: 'nope' }))
    expect(refused.status).toBe(400)
    const again = await refused.text()
    expect(again).not.toContain('<script>alert(1)</script>')
    expect(again).toContain('>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;</textarea>')
  })

  it('keeps the contact for replies, and drops it when the citizen asks to stay anonymous', async () => {
    await gw.fetch(submit(gw.channelUrl, { text: '路灯坏了', name: '李伟', email: 'li.wei@example.cn', phone: '１３８ 0013 8000' }))
    const anonymous = freshSubmission()
    await gw.fetch(submit(gw.channelUrl, { submission: anonymous, text: '有人偷倒垃圾', name: '王芳', email: 'wang@example.cn', phone: '139 0000 0000', anonymous: true }))
    const all = await cases()
    const named = all.find((c) => c.summary.includes('路灯'))!
    const hidden = all.find((c) => c.summary.includes('垃圾'))!
    expect(named.contact).toEqual({ name: '李伟', email: 'li.wei@example.cn', phone: '138 0013 8000' })
    expect(named.anonymous).toBe(false)
    expect(hidden.contact).toBeNull()
    expect(hidden.anonymous).toBe(true)
    expect(JSON.stringify(hidden)).not.toMatch(/王芳|wang@example|139 0000/)
    // A bad email does not matter when the citizen chose not to leave one.
    const res = await gw.fetch(submit(gw.channelUrl, { text: '匿名', email: 'not-an-email', anonymous: true }))
    expect(res.status).toBe(201)
  })

  it('stores photos decoded and encoded again, typed by what they really are, without the camera’s EXIF', async () => {
    const res = await gw.fetch(
      submit(gw.channelUrl, {
        text: '',
        photos: [
          { name: 'C:\\Users\\me\\road.png', type: 'application/octet-stream', bytes: PNG },
          { name: 'river.jpg', type: 'image/jpeg', bytes: JPEG },
        ],
      }),
    )
    expect(res.status).toBe(201)
    expect(await res.text()).toContain('照片：2 张')
    const [kase] = await cases()
    const [message] = await gw.intake.store.listMessages(kase!.id)
    const [first, second] = message!.attachments
    expect(first).toMatchObject({ filename: 'road.png', contentType: 'image/png' })
    expect(second).toMatchObject({ filename: 'river.jpg', contentType: 'image/jpeg' })
    const [road, river] = [(await gw.intake.blobs.get(first!.blobKey!))!, (await gw.intake.blobs.get(second!.blobKey!))!]
    expect(first!.sha256).toBe(createHash('sha256').update(road).digest('hex'))
    expect([first!.size, second!.size]).toEqual([road.byteLength, river.byteLength])
    expect(await imageFacts(road)).toEqual({ format: 'png', width: 4, height: 3, exif: false })
    expect(await imageFacts(river)).toEqual({ format: 'jpeg', width: 8, height: 8, exif: false })
  })

  it('strips the GPS position a phone wrote into a photo, and refuses what only starts like a JPEG', async () => {
    const withGps = await jpegPhoto({ width: 30, height: 20, gps: true })
    const ok = await gw.fetch(submit(gw.channelUrl, { text: '路灯坏了', photos: [{ name: 'IMG_0001.jpg', type: 'image/jpeg', bytes: withGps }] }))
    expect(ok.status).toBe(201)
    const [kase] = await cases()
    const [message] = await gw.intake.store.listMessages(kase!.id)
    expect(await imageFacts((await gw.intake.blobs.get(message!.attachments[0]!.blobKey!))!)).toEqual({ format: 'jpeg', width: 30, height: 20, exif: false })

    const fake = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, ...Buffer.from('<html><script>alert(1)</script></html>')])
    const refused = await gw.fetch(submit(gw.channelUrl, { text: '看照片', photos: [{ name: 'fake.jpg', type: 'image/jpeg', bytes: fake }] }))
    expect(refused.status).toBe(415)
    expect(await refused.text()).toContain('不是 JPEG、PNG 或 WebP 格式的图片')
    expect(await cases()).toHaveLength(1)
  })

  it('keeps no photo bytes from a form it refused', async () => {
    const res = await gw.fetch(submit(gw.channelUrl, { text: 'x', email: 'bad', photos: [{ name: 'a.png', type: 'image/png', bytes: PNG }] }))
    expect(res.status).toBe(400)
    expect(await gw.intake.blobs.get(createHash('sha256').update(PNG).digest('hex'))).toBeUndefined()
  })

  it('refuses a form with a page in the citizen language, the values kept and the field marked', async () => {
    const res = await gw.fetch(submit(gw.channelUrl, { text: 'Broken light', place: 'Market St', email: 'li@', lang: 'en' }))
    expect(res.status).toBe(400)
    expect(res.headers.get('content-type')).toMatch(/text\/html/)
    const body = await res.text()
    expect(body).toContain('<html lang="en">')
    expect(body).toMatch(/<p class="error" role="alert" id="form-error"[^>]*>That email address does not look right/)
    expect(body).toMatch(/id="email" name="email" value="li@"[^>]*aria-invalid="true" aria-describedby="form-error"/)
    expect(body).toContain('value="Market St"')
    expect(body).toContain('>Broken light</textarea>')
    expect(body).toContain('href="/channels/web/?lang=en"')

    const empty = await (await gw.fetch(submit(gw.channelUrl, { text: '', lang: 'zh-CN' }))).text()
    expect(empty).toContain('请写下您的诉求，或者附上至少一张照片。')
    expect(empty).toMatch(/<textarea id="text"[^>]*aria-describedby="text-hint form-error" aria-invalid="true"/)

    const fake = await gw.fetch(submit(gw.channelUrl, { text: 'x', lang: 'en', photos: [{ name: 'virus.png', type: 'image/png', bytes: new TextEncoder().encode('MZ\x90\x00') }] }))
    expect(fake.status).toBe(415)
    expect(await fake.text()).toContain('&quot;virus.png&quot; is not a JPEG, PNG or WebP image.')
  })

  it('answers a request that is not a form with a page and a link back, never JSON', async () => {
    const res = await gw.fetch(new Request(`${gw.channelUrl}/submit?lang=en`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' }))
    expect(res.status).toBe(415)
    const body = await res.text()
    expect(body).toMatch(/role="alert"[^>]*>Please send the form from this page.<\/p>/)
    expect(body).toContain('<a href="/channels/web/?lang=en">Back to the form</a>')
  })

  it('reads a bounded number of submissions at once: the next waits its turn, one that waits too long is asked to try again', async () => {
    await gw.close()
    gw = await kitGateway(webForm({ maxConcurrentUploads: 1 }), 'web')
    // The first submission's body arrives slowly and holds the only turn.
    const first = submit(gw.channelUrl, { text: '伽师县的路灯坏了', photos: [{ name: 'a.png', type: 'image/png', bytes: PNG }] })
    const bytes = new Uint8Array(await first.arrayBuffer())
    let finish!: () => void
    const rest = new Promise<void>((r) => (finish = r))
    const slow = new ReadableStream<Uint8Array>({
      start: (controller) => controller.enqueue(bytes.subarray(0, 100)),
      pull: async (controller) => {
        await rest
        controller.enqueue(bytes.subarray(100))
        controller.close()
      },
    })
    const held = gw.fetch(new Request(first.url, { method: 'POST', headers: first.headers, body: slow, duplex: 'half' } as RequestInit))
    await new Promise((r) => setTimeout(r, 20))

    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    let second: Response
    try {
      const waiting = gw.fetch(submit(gw.channelUrl, { text: '疏勒县有人拖欠工资', lang: 'en' }))
      await vi.advanceTimersByTimeAsync(9_000)
      expect(await Promise.race([waiting.then(() => 'answered'), Promise.resolve('waiting')])).toBe('waiting')
      await vi.advanceTimersByTimeAsync(1_500)
      second = await waiting
    } finally {
      vi.useRealTimers()
    }
    expect(second.status).toBe(503)
    expect(second.headers.get('retry-after')).toBe('5')
    expect(await second.text()).toContain('Many people are sending the form right now')

    finish()
    expect((await held).status).toBe(201)
    // The turn is free again: the next citizen gets in at once.
    expect((await gw.fetch(submit(gw.channelUrl, { text: '疏勒县有人拖欠工资' }))).status).toBe(201)
    expect(await cases()).toHaveLength(2)
  })

  it('says "too large" in the citizen language when core refuses the body before parsing', async () => {
    await gw.close()
    gw = await kitGateway(webForm({ maxPhotos: 1, maxPhotoBytes: 1024 }), 'web')
    const big = new Uint8Array(80 * 1024)
    big.set(PNG)
    const res = await gw.fetch(submit(gw.channelUrl, { text: 'x', lang: 'zh-CN', photos: [{ name: 'big.png', type: 'image/png', bytes: big }] }))
    expect(res.status).toBe(413)
    const body = await res.text()
    expect(body).toMatch(/role="alert"[^>]*>提交的内容太大了/)
    expect(body).toContain('<a href="/channels/web/?lang=zh">返回表单重新填写</a>')
    expect(await cases()).toHaveLength(0)
  })

  it('sends the citizen to the form from the bare channel address and from a GET on /submit', async () => {
    const bare = await gw.fetch(new Request(`${gw.channelUrl}?lang=en`))
    expect(bare.status).toBe(301)
    expect(bare.headers.get('location')).toBe('/channels/web/?lang=en')
    const get = await gw.fetch(new Request(`${gw.channelUrl}/submit`, { headers: { 'accept-language': 'en' } }))
    expect(get.status).toBe(303)
    expect(get.headers.get('location')).toBe('/channels/web/?lang=en')
    const root = await gw.fetch(new Request('http://intake.test/'))
    expect(root.headers.get('location')).toBe('/channels/web/')
  })

  it('delivers replies by showing them on the status page: send succeeds at once', async () => {
    const adapter = webForm()
    const result = await adapter.send(
      { id: 'm-1', caseId: 'c-1', channelId: 'web', to: { channelId: 'web', id: 'web:x' }, kind: 'reply', text: 'Fixed', trackingCode: 'K7F3-9Q2M', statusUrl: 'http://intake.test/status/K7F3-9Q2M', language: 'en' },
      { channelId: 'web', idempotencyKey: 'k', attempt: 1, log: gw.intake.log, publicUrl: 'http://intake.test', blobs: gw.intake.blobs },
    )
    expect(result).toEqual({ ok: true, providerId: 'web:m-1' })
  })
})
