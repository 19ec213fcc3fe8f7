/**
 * The web form in a real browser (Chromium through playwright-core) against a real gateway on a
 * loopback port: a citizen on a phone fills the form, attaches a photo, reads the tracking code,
 * follows the status link, and switches language.
 */
import { existsSync } from 'node:fs'
import { serve, type ServerType } from '@hono/node-server'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { imageFacts, kitGateway, pngImage, type KitGateway } from '@intake/channels/kit'
import { webForm } from '@intake/channels/web-form'

const CHROMIUM = '/usr/bin/chromium'
const hasChromium = existsSync(CHROMIUM)
// CI installs Chromium and sets this, so a missing browser there is a failure, not a silent skip.
const browserRequired = process.env.INTAKE_REQUIRE_BROWSER === '1'


const title = hasChromium
  ? 'web form in a real browser (Chromium)'
  : browserRequired
    ? 'web form in a real browser — Chromium is required (INTAKE_REQUIRE_BROWSER=1) but missing'
    : 'web form in a real browser — skipped: Chromium not installed: apt-get install chromium'

describe.skipIf(!hasChromium && !browserRequired)(title, () => {
  let gw: KitGateway
  let server: ServerType
  let base: string
  let browser: Browser
  let context: BrowserContext
  let page: Page

  beforeAll(async () => {
    if (!hasChromium) throw new Error(`Chromium not installed at ${CHROMIUM}: apt-get install chromium`)
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    })
  })
  afterAll(async () => {
    await browser?.close()
  })

  beforeEach(async () => {
    gw = await kitGateway(webForm(), 'web')
    const port = await new Promise<number>((resolve) => {
      server = serve({ fetch: gw.intake.app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve(info.port))
    })
    base = `http://127.0.0.1:${port}`
    // A phone-sized screen, as most citizens will see it.
    context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'zh-CN' })
    page = await context.newPage()
  })
  afterEach(async () => {
    await context?.close()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await gw.close()
  })

  it('a citizen sends text, a place and a photo, gets a tracking code and follows it to the status page', async () => {
    await page.goto(`${base}/`)
    expect(new URL(page.url()).pathname).toBe('/channels/web/')
    expect(await page.getAttribute('html', 'lang')).toBe('zh-CN')

    await page.getByLabel('您的诉求').fill('巴仁镇中学门口的路灯坏了一个月了，晚上学生回家很危险。')
    await page.getByLabel('地点').fill('伽师县巴仁镇中学门口')
    const photo = Buffer.from(pngImage(64, 48, [135, 206, 235]))
    await page.getByLabel('照片').setInputFiles({ name: '路灯.png', mimeType: 'image/png', buffer: photo })
    await page.getByLabel('姓名').fill('李伟')
    await page.getByLabel('电话').fill('138 0013 8000')
    await page.screenshot({ path: '/tmp/web-form.png', fullPage: true })

    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/channels/web/submit') && r.request().method() === 'POST'),
      page.getByRole('button', { name: '提交' }).click(),
    ])
    expect(response.status()).toBe(201)
    await page.waitForLoadState()
    const code = (await page.locator('.code').textContent())?.trim() ?? ''
    expect(code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}$/)
    await expect.poll(() => page.getByRole('status').textContent()).toContain('已经登记')
    await page.screenshot({ path: '/tmp/web-form-confirmation.png', fullPage: true })

    // What the browser sent is what was stored: the case, the contact and the photo (decoded and
    // encoded again without metadata: the same picture, not the same bytes).
    const kase = await gw.intake.store.getCaseByTrackingCode(code)
    expect(kase).toMatchObject({ channelId: 'web', place: '伽师县巴仁镇中学门口', language: 'zh-CN', contact: { name: '李伟', phone: '138 0013 8000' } })
    const [message] = await gw.intake.store.listMessages(kase!.id)
    expect(message?.text).toBe('巴仁镇中学门口的路灯坏了一个月了，晚上学生回家很危险。')
    expect(message?.attachments).toMatchObject([{ filename: '路灯.png', contentType: 'image/png' }])
    const stored = (await gw.intake.blobs.get(message!.attachments[0]!.blobKey!))!
    expect(message!.attachments[0]!.size).toBe(stored.byteLength)
    expect(await imageFacts(stored)).toEqual({ format: 'png', width: 64, height: 48, exif: false })

    await Promise.all([page.waitForURL(/\/status\//), page.getByRole('link', { name: '查看办理进度' }).click()])
    expect(new URL(page.url()).pathname).toBe(`/status/${code}`)
    await expect.poll(() => page.locator('main').textContent()).toContain(code)
    const status = (await page.locator('main').textContent()) ?? ''
    expect(status).toContain('办理单位')
    expect(status).toContain('Intake Desk')
    expect(status).toContain('已受理')
  })

  it('switches to English: the labels change and the confirmation is in English', async () => {
    await page.goto(`${base}/channels/web/`)
    await expect.poll(() => page.locator('label[for="text"]').textContent()).toContain('您的诉求')

    await Promise.all([page.waitForURL(/lang=en/), page.getByRole('link', { name: 'English' }).click()])
    expect(await page.getAttribute('html', 'lang')).toBe('en')
    expect(await page.locator('label[for="text"]').textContent()).toContain('Your message')
    expect(await page.locator('label[for="photos"]').textContent()).toContain('Photos')
    expect(await page.locator('button[type=submit]').textContent()).toBe('Send')
    await page.screenshot({ path: '/tmp/web-form-en.png', fullPage: true })

    await page.getByLabel('Your message').fill('The bus shelter on Market Street has lost its roof.')
    await Promise.all([page.waitForURL(/\/submit/), page.getByRole('button', { name: 'Send' }).click()])
    expect(await page.getAttribute('html', 'lang')).toBe('en')
    expect(await page.locator('main').textContent()).toContain('Your tracking code')
    await page.screenshot({ path: '/tmp/web-form-confirmation-en.png', fullPage: true })
    const code = (await page.locator('.code').textContent())?.trim() ?? ''
    expect((await gw.intake.store.getCaseByTrackingCode(code))?.language).toBe('en')

    await Promise.all([page.waitForURL(/\/status\//), page.getByRole('link', { name: 'See how your case is going' }).click()])
    expect(await page.getAttribute('html', 'lang')).toBe('en')
    expect(await page.locator('main').textContent()).toContain('Handled by')
  })

  it('a form sent empty comes back with the reason announced, and nothing is stored', async () => {
    await page.goto(`${base}/channels/web/`)
    await page.getByLabel('地点').fill('伽师县')
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/submit') && r.request().method() === 'POST'),
      page.getByRole('button', { name: '提交' }).click(),
    ])
    expect(response.status()).toBe(400)
    await page.waitForLoadState()
    expect(await page.getByRole('alert').textContent()).toBe('请写下您的诉求，或者附上至少一张照片。')
    expect(await page.getByLabel('地点').inputValue()).toBe('伽师县')
    expect(await page.getByLabel('您的诉求').getAttribute('aria-invalid')).toBe('true')
    await page.screenshot({ path: '/tmp/web-form-error.png', fullPage: true })
    expect((await gw.intake.store.listCases({ limit: 10 })).cases).toHaveLength(0)
  })
})
