/**
 * The staff console in a real browser (Chromium through playwright-core) against a real gateway on a
 * loopback port, with the SMS channel on the Twilio stand-in: a county caseworker signs in, finds the
 * SMS case that just arrived and answers it (the answer reaches Twilio); the county lead dispatches it
 * to a township, whose caseworker sees it while the other county's caseworker cannot. axe-core, run in
 * the page, finds no serious or critical violation on any page, and no page trips the CSP. Then,
 * without script, a reply template is inserted and an extension asked for below and approved above.
 */
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { serve, type ServerType } from '@hono/node-server'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addUser } from '@intake/core'
import { consoleGateway, STAFF_PASSWORD, type ConsoleGateway } from './support/console.ts'

const CHROMIUM = '/usr/bin/chromium'
const hasChromium = existsSync(CHROMIUM)
// CI installs Chromium and sets this, so a missing browser there is a failure, not a silent skip.
const browserRequired = process.env.INTAKE_REQUIRE_BROWSER === '1'
const title = hasChromium
  ? 'staff console in a real browser (Chromium)'
  : browserRequired
    ? 'staff console in a real browser — Chromium is required (INTAKE_REQUIRE_BROWSER=1) but missing'
    : 'staff console in a real browser — skipped: Chromium not installed: apt-get install chromium'

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')
const CITIZEN = '+8613812341234'

interface AxeViolation {
  id: string
  impact: string | null
  help: string
  nodes: Array<{ target: string[] }>
}

describe.skipIf(!hasChromium && !browserRequired)(title, () => {
  let gw: ConsoleGateway
  let server: ServerType
  let base: string
  let browser: Browser
  const cspViolations: string[] = []

  beforeAll(async () => {
    if (!hasChromium) throw new Error(`Chromium not installed at ${CHROMIUM}: apt-get install chromium`)
    gw = await consoleGateway()
    const port = await new Promise<number>((resolve) => {
      server = serve({ fetch: gw.intake.app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve(info.port))
    })
    base = `http://127.0.0.1:${port}`
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    })
  })
  afterAll(async () => {
    await browser?.close()
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()))
    await gw?.close()
  })

  /** A phone-sized browser signed in as `login`, through the sign-in page. */
  async function signedIn(login: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: 'zh-CN' })
    const page = await context.newPage()
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(`${page.url()}: ${m.text()}`)
    })
    await page.goto(`${base}/console/`)
    await expectAccessible(page, 'sign-in')
    await page.getByLabel('账号').fill(login)
    await page.getByLabel('密码').fill(STAFF_PASSWORD)
    await Promise.all([page.waitForURL('**/console/cases'), page.getByRole('button', { name: '登录' }).click()])
    return page
  }

  /** axe-core evaluated in the page (through the debugger protocol, so the page's CSP still holds for everything else). */
  async function expectAccessible(page: Page, name: string) {
    await page.evaluate(AXE)
    const violations = (await page.evaluate(async () => {
      const axe = (globalThis as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: unknown[] }> } }).axe
      return (await axe.run(document, { resultTypes: ['violations'] })).violations
    })) as AxeViolation[]
    const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    expect(serious.map((v) => `${name}: ${v.id} (${v.impact}) ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([])
  }

  it('a county caseworker answers the SMS that just arrived; the lead dispatches it to a township; the other county cannot see it', { timeout: 120_000 }, async () => {
    expect((await gw.sms(CITIZEN, '伽师县城区道路坑洼很多，晚上看不清，请尽快修。')).status).toBe(200)
    const kase = (await gw.intake.store.listCases({})).cases[0]!
    expect(kase.officeId).toBe('jiashi')

    // The caseworker finds it at the top of the office's list and answers it.
    const worker = await signedIn('jiashi.worker')
    await expectAccessible(worker, 'cases')
    await expect(worker.getByText('+86138****1234')).toBeTruthy()
    await Promise.all([worker.waitForURL(`**/console/cases/${kase.id}`), worker.getByRole('link', { name: kase.trackingCode }).click()])
    await expectAccessible(worker, 'case')
    expect(await worker.locator('.msg.in .text').first().textContent()).toContain('坑洼很多')
    await worker.getByLabel('答复内容').fill('您好，养护队将于本周五前修复，感谢反映。')
    await Promise.all([worker.waitForURL(`**/console/cases/${kase.id}?done=1`), worker.getByRole('button', { name: '发送答复' }).click()])
    expect(await worker.getByRole('status').textContent()).toContain('已保存')
    const deadline = Date.now() + 10_000
    while (!gw.twilio.messages.some((m) => m.body.includes('养护队将于本周五前修复')) && Date.now() < deadline) {
      await gw.intake.outbox.drain()
      await new Promise((r) => setImmediate(r))
    }
    const answer = gw.twilio.messages.find((m) => m.body.includes('养护队将于本周五前修复'))
    expect(answer).toMatchObject({ to: CITIZEN })

    // The lead dispatches it down to the township (派单).
    const lead = await signedIn('jiashi.lead')
    await lead.goto(`${base}/console/cases/${kase.id}`)
    await lead.getByLabel('派往下级单位').selectOption('jiashi-bairen')
    await lead.getByLabel('备注', { exact: true }).first().fill('请巴仁镇现场核实')
    await Promise.all([lead.waitForURL(`**/console/cases/${kase.id}?done=1`), lead.getByRole('button', { name: '派单' }).click()])
    expect((await gw.intake.store.getCase(kase.id))?.officeId).toBe('jiashi-bairen')
    await lead.goto(`${base}/console/dead-letters`)
    await expectAccessible(lead, 'dead-letters')

    // The township's caseworker sees it.
    const town = await signedIn('bairen.worker')
    expect(await town.getByRole('link', { name: kase.trackingCode }).count()).toBe(1)

    // The other county's caseworker does not: not in the list or its count, a 404 on the page and in the API.
    const other = await signedIn('shule.worker')
    expect(await other.getByRole('link', { name: kase.trackingCode }).count()).toBe(0)
    expect(await other.locator('#total').textContent()).toBe('共 0 件')
    const res = await other.goto(`${base}/console/cases/${kase.id}`)
    expect(res?.status()).toBe(404)
    const api = await fetch(`${base}/api/v1/cases/${kase.id}`, { headers: { authorization: `Bearer ${gw.tokens['shule.worker']}` } })
    expect(api.status).toBe(404)

    // The supervisor's pages: the dashboard's server-drawn charts, supervision, the audit trail.
    const sup = await signedIn('kashgar.supervisor')
    for (const [path, name] of [['/console/dashboard', 'dashboard'], ['/console/supervision', 'supervision'], ['/console/audit', 'audit']] as const) {
      const page = await sup.goto(`${base}${path}`)
      expect(page?.status(), path).toBe(200)
      await expectAccessible(sup, name)
      if (name === 'dashboard') expect(await sup.locator('figure svg').count()).toBeGreaterThanOrEqual(4)
    }
    await sup.getByRole('button', { name: '校验哈希链' }).click()
    expect(await sup.getByRole('status').textContent()).toMatch(/哈希链完整/)
    // The English pages too.
    await sup.goto(`${base}/console/cases?lang=en`)
    expect(await sup.getAttribute('html', 'lang')).toBe('en')
    await expectAccessible(sup, 'cases (en)')

    expect(cspViolations).toEqual([])
  })

  it('plain forms, no script: a caseworker inserts a reply template and asks for an extension; the supervisor above approves it from the supervision page and the deadline moves', { timeout: 120_000 }, async () => {
    expect((await gw.sms('+8613900000009', '伽师县城区路灯坏了一整条街')).status).toBe(200)
    const kase = (await gw.intake.store.listCases({})).cases.find((k) => k.summary.includes('路灯'))!
    expect(kase.officeId).toBe('jiashi')

    const worker = await signedIn('jiashi.worker')
    await worker.goto(`${base}/console/cases/${kase.id}`)
    await worker.getByLabel('答复模板').selectOption('received-handling')
    await Promise.all([worker.waitForLoadState('load'), worker.getByRole('button', { name: '插入模板' }).click()])
    expect(await worker.getByLabel('答复内容').inputValue()).toContain(kase.trackingCode)
    await expectAccessible(worker, 'case with a template inserted')

    await worker.getByLabel('延长办理期限').selectOption('3')
    await worker.getByLabel('延期理由').fill('需要协调供电公司更换线路')
    await Promise.all([worker.waitForURL(`**/console/cases/${kase.id}?done=1&notice=extension-requested`), worker.getByRole('button', { name: '提交延期申请' }).click()])
    expect(await worker.getByRole('status').textContent()).toContain('延期申请已提交')
    await expectAccessible(worker, 'case with an extension pending')
    const wanted = (await gw.intake.store.listEvents(kase.id)).find((e) => e.type === 'extension_requested')!.data.deadlineAt

    const sup = await signedIn('kashgar.supervisor')
    await sup.goto(`${base}/console/supervision`)
    await expectAccessible(sup, 'supervision with a pending extension')
    const card = sup.locator('section.panel', { has: sup.getByRole('link', { name: kase.trackingCode }) }).first()
    expect(await card.textContent()).toContain('需要协调供电公司更换线路')
    await Promise.all([sup.waitForURL(`**/console/cases/${kase.id}?done=1&notice=extension-approved`), card.getByRole('button', { name: '同意延期' }).click()])
    expect(await sup.getByRole('status').textContent()).toContain('已同意延期')
    expect((await gw.intake.store.getCase(kase.id))?.deadlineAt).toBe(wanted)
    await sup.goto(`${base}/console/supervision?lang=en`)
    await expectAccessible(sup, 'supervision (en)')
    expect(cspViolations).toEqual([])
  })

  it("an administrator adds a caseworker, who signs in with the password shown once, and changes the county's duty phone live", { timeout: 120_000 }, async () => {
    await addUser(gw.intake.store, gw.intake.offices, { login: 'jiashi.admin', name: '管理员', officeId: 'jiashi', role: 'admin', password: STAFF_PASSWORD }, 'test', 1)
    const admin = await signedIn('jiashi.admin')
    await Promise.all([admin.waitForURL('**/console/staff'), admin.getByRole('link', { name: '人员账号' }).click()])
    await expectAccessible(admin, 'staff')
    await admin.getByLabel('账号', { exact: true }).fill('jiashi.browser')
    await admin.getByLabel('姓名', { exact: true }).fill('古丽')
    await admin.getByLabel('承办单位').selectOption('jiashi-bairen')
    await admin.getByLabel('角色').selectOption('caseworker')
    await admin.getByRole('button', { name: '新增', exact: true }).click()
    const notice = (await admin.locator('#staff-notice').textContent()) ?? ''
    const password = /的密码：([A-Za-z0-9_-]{16})。/.exec(notice)?.[1]
    expect(password).toBeDefined()
    await expectAccessible(admin, 'staff (added)')

    const context = await browser.newContext({ locale: 'zh-CN' })
    const newcomer = await context.newPage()
    await newcomer.goto(`${base}/console/`)
    await newcomer.getByLabel('账号').fill('jiashi.browser')
    await newcomer.getByLabel('密码').fill(password!)
    await Promise.all([newcomer.waitForURL('**/console/cases'), newcomer.getByRole('button', { name: '登录' }).click()])
    expect(await newcomer.getByRole('link', { name: '人员账号' }).count()).toBe(0)

    await Promise.all([admin.waitForURL('**/console/offices'), admin.getByRole('link', { name: '单位设置' }).click()])
    await expectAccessible(admin, 'offices')
    await Promise.all([admin.waitForURL('**/console/offices/jiashi'), admin.getByRole('link', { name: '伽师县人民政府' }).click()])
    await expectAccessible(admin, 'office')
    await admin.getByLabel('值班电话').fill('0998-5710000')
    await Promise.all([admin.waitForURL('**/console/offices/jiashi?done=1'), admin.locator('form[action$="/contact"] button').click()])
    expect(await admin.getByRole('status').textContent()).toContain('已保存')
    expect(gw.intake.offices.get('jiashi')?.contact.dutyPhone).toBe('0998-5710000')
    // Changed live, the contacts get a button back to the offices file.
    await expectAccessible(admin, 'office (changed live)')
    await Promise.all([admin.waitForURL('**/console/offices/jiashi?done=1'), admin.getByRole('button', { name: '恢复为配置文件中的设置' }).click()])
    expect(gw.intake.offices.get('jiashi')?.contact).toEqual(gw.intake.offices.seed.find((o) => o.id === 'jiashi')?.contact)
    expect(await admin.getByRole('button', { name: '恢复为配置文件中的设置' }).count()).toBe(0)
    expect(cspViolations).toEqual([])
  })
})
