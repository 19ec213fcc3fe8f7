import type { Intake } from '@intake/core'

/** Sign in to the console in-process through the sign-in form; the session's cookie. */
export async function consoleCookie(intake: Intake, base: string, login: string, password: string): Promise<string> {
  const first = await intake.app.request(`${base}/console/sign-in`)
  const pre = first.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ')
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await first.text())![1]!
  const res = await intake.app.request(`${base}/console/sign-in`, {
    method: 'POST',
    headers: { cookie: pre, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, login, password }),
  })
  if (res.status !== 303) throw new Error(`sign-in of ${login} answered ${res.status}`)
  return res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ')
}

/** `requests` runs one after another after `warmUp` unmeasured ones; prints and returns the median (ms). */
export async function medianOf(label: string, { requests, warmUp }: { requests: number; warmUp: number }, run: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < warmUp; i++) await run()
  const ms: number[] = []
  for (let i = 0; i < requests; i++) {
    const start = performance.now()
    await run()
    ms.push(performance.now() - start)
  }
  ms.sort((a, b) => a - b)
  const median = ms[Math.floor(ms.length / 2)]!
  const p95 = ms[Math.min(ms.length - 1, Math.floor(ms.length * 0.95))]!
  console.log(`${label.padEnd(64)} median ${median.toFixed(2).padStart(8)} ms   p95 ${p95.toFixed(2).padStart(8)} ms`)
  return median
}
