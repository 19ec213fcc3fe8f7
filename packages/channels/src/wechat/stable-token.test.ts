/**
 * Several gateway processes sharing one AppID: with `tokenEndpoint: 'stable'` each holds WeChat's
 * stable token (POST /cgi-bin/stable_token), which normal mode hands to every caller alike, so no
 * process's fetch retires another's. Two token caches here stand for two processes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { accessTokens, sendCustomText, type AccessTokens } from './api-client.ts'
import { startWechatApiServer, type WechatApiServer } from './wechat-api-server.ts'

describe('wechat access token shared by several processes (stable_token)', () => {
  let api: WechatApiServer
  let processes: AccessTokens[]

  beforeEach(async () => {
    api = await startWechatApiServer()
    const holder = () => accessTokens({ baseUrl: api.url, appId: api.appId, appSecret: api.appSecret, now: Date.now, refreshMarginMs: 300_000, timeoutMs: 5_000, endpoint: 'stable' })
    processes = [holder(), holder()]
  })
  afterEach(async () => {
    await api.close()
  })

  const send = (tokens: AccessTokens, text: string) => sendCustomText({ baseUrl: api.url, tokens, timeoutMs: 5_000 }, 'oOPENID-0001', text)

  it('both processes send with the same token, neither retiring the other\'s', async () => {
    expect(await send(processes[0]!, 'from process 1')).toEqual({ ok: true })
    expect(await send(processes[1]!, 'from process 2')).toEqual({ ok: true })
    expect(await send(processes[0]!, 'process 1 again')).toEqual({ ok: true })
    expect(api.sent.map((m) => m.text?.content)).toEqual(['from process 1', 'from process 2', 'process 1 again'])
    expect(new Set(api.sent.map((m) => m.accessToken)).size).toBe(1)
    expect(api.tokenRequests()).toBe(2)
    expect(api.forceRefreshes()).toBe(0)
  })

  it('a token WeChat refuses is replaced once for everyone: the other process picks up the new one without forcing again', async () => {
    await send(processes[0]!, 'first')
    await send(processes[1]!, 'second')
    // WeChat stops accepting the shared token (as after a force refresh elsewhere).
    api.failNextSend({ errcode: 40001 })
    expect(await send(processes[0]!, 'third')).toEqual({ ok: true })
    expect(api.forceRefreshes(), 'normal mode gave the refused token back: force one new').toBe(1)
    // Process 2 still holds the retired token: refused, it asks in normal mode and gets process 1's new one.
    expect(await send(processes[1]!, 'fourth')).toEqual({ ok: true })
    expect(api.forceRefreshes(), 'no second force refresh: the processes do not take turns retiring each other').toBe(1)
    const tokens = api.sent.map((m) => m.accessToken)
    expect(tokens[2]).toBe(tokens[3])
    expect(tokens[2]).not.toBe(tokens[0])
  })

  it('an expired token is renewed in normal mode, without a force refresh', async () => {
    await send(processes[0]!, 'first')
    api.expireTokens()
    expect(await send(processes[1]!, 'after expiry')).toEqual({ ok: true })
    expect(await send(processes[0]!, 'process 1 after expiry')).toEqual({ ok: true })
    expect(api.forceRefreshes()).toBe(0)
  })
})
