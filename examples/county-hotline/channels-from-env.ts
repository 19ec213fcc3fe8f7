/**
 * The demo's optional channels and speech engine, each switched on by its environment variables
 * (nothing is set by default, so `pnpm start` runs with the web form and the api channel only).
 * Adapters are imported only when configured, so an unused provider SDK costs nothing at start.
 *
 *   SMS / WhatsApp   TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_SMS_FROM (and/or TWILIO_WHATSAPP_FROM)
 *   voice calls      the same account + TWILIO_VOICE_FROM (replies go out by SMS from TWILIO_SMS_FROM)
 *   email            INTAKE_MAIL_ADDRESSES (comma-separated), INTAKE_SMTP_PORT (listener, default 2525, `off`),
 *                    INTAKE_SMTP_RELAY_HOST[/PORT/USER/PASS] (outbound), INTAKE_IMAP_HOST/USER/PASS (polling)
 *   Telegram         TELEGRAM_BOT_TOKEN, TELEGRAM_SECRET_TOKEN (webhook; without it: long polling)
 *   WeChat           WECHAT_TOKEN, WECHAT_APP_ID, WECHAT_APP_SECRET, WECHAT_AES_KEY (safe mode)
 *   Alibaba Cloud SMS ALIYUN_SMS_ACCESS_KEY_ID, ALIYUN_SMS_ACCESS_KEY_SECRET, ALIYUN_SMS_SIGN_NAME, ALIYUN_SMS_PUSH_TOKEN,
 *                    ALIYUN_SMS_TEMPLATES (`acknowledgement=SMS_1,status=SMS_2,survey=SMS_3`; each fills ${code} with the tracking code)
 *   WeCom village groups WECOM_BOT_TOKEN, WECOM_BOT_AES_KEY, WECOM_BOT_GROUPS (`chatid=webhook-key,…`)
 *   Weibo            WEIBO_APP_SECRET, WEIBO_ACCOUNTS (`uid=access-token,…`: one channel `weibo-<uid>` per account)
 *   Douyin           DOUYIN_CLIENT_KEY, DOUYIN_CLIENT_SECRET, DOUYIN_ACCOUNT_OPEN_ID, DOUYIN_ACCESS_TOKEN,
 *                    DOUYIN_COMMENTS (`all`, `none`, `mention:<account name>` (default with DOUYIN_ACCOUNT_NAME), `keywords:<w1>|<w2>`)
 *   speech           INTAKE_TRANSCRIBE_URL + INTAKE_TRANSCRIBE_KEY (OpenAI-compatible), or INTAKE_TRANSCRIBER=pocketsphinx
 */
import type { ChannelAdapter, Transcriber } from '@intake/core'

type Env = Record<string, string | undefined>

const list = (value: string | undefined) => (value ?? '').split(',').map((s) => s.trim()).filter(Boolean)

export async function channelsFromEnv(env: Env): Promise<Record<string, ChannelAdapter>> {
  const channels: Record<string, ChannelAdapter> = {}
  if (env.TWILIO_ACCOUNT_SID && env.TWILIO_AUTH_TOKEN) {
    const account = { accountSid: env.TWILIO_ACCOUNT_SID, authToken: env.TWILIO_AUTH_TOKEN }
    if (env.TWILIO_SMS_FROM || env.TWILIO_WHATSAPP_FROM) {
      const { twilioSms } = await import('@intake/channels/twilio-sms')
      channels.sms = twilioSms({ ...account, from: env.TWILIO_SMS_FROM, whatsappFrom: env.TWILIO_WHATSAPP_FROM })
    }
    if (env.TWILIO_VOICE_FROM) {
      const { twilioVoice } = await import('@intake/channels/twilio-voice')
      channels.voice = twilioVoice({ ...account, from: env.TWILIO_VOICE_FROM, smsFrom: env.TWILIO_SMS_FROM, language: 'zh-CN' })
    }
  }
  const addresses = list(env.INTAKE_MAIL_ADDRESSES)
  if (addresses.length) {
    const { smtpEmailChannel } = await import('@intake/channels/smtp-email')
    channels.mail = smtpEmailChannel({
      addresses,
      // The listener is on (port 2525 unless told) except when mail comes only from an IMAP mailbox.
      listen: env.INTAKE_SMTP_PORT === 'off' ? false : { host: env.INTAKE_SMTP_HOST ?? '127.0.0.1', port: Number(env.INTAKE_SMTP_PORT ?? 2525) },
      ...(env.INTAKE_IMAP_HOST
        ? { imap: { host: env.INTAKE_IMAP_HOST, auth: { user: env.INTAKE_IMAP_USER ?? '', pass: env.INTAKE_IMAP_PASS ?? '' } } }
        : {}),
      ...(env.INTAKE_SMTP_RELAY_HOST
        ? {
            transport: {
              host: env.INTAKE_SMTP_RELAY_HOST,
              port: Number(env.INTAKE_SMTP_RELAY_PORT ?? 587),
              ...(env.INTAKE_SMTP_RELAY_USER ? { auth: { user: env.INTAKE_SMTP_RELAY_USER, pass: env.INTAKE_SMTP_RELAY_PASS ?? '' } } : {}),
            },
          }
        : {}),
    })
  }
  if (env.TELEGRAM_BOT_TOKEN) {
    const { telegramChannel } = await import('@intake/channels/telegram')
    channels.tg = telegramChannel({
      token: env.TELEGRAM_BOT_TOKEN,
      ...(env.TELEGRAM_SECRET_TOKEN ? { secretToken: env.TELEGRAM_SECRET_TOKEN } : { mode: 'polling' as const }),
    })
  }
  if (env.WECHAT_TOKEN && env.WECHAT_APP_ID && env.WECHAT_APP_SECRET) {
    const { wechatChannel } = await import('@intake/channels/wechat')
    channels.wechat = wechatChannel({
      token: env.WECHAT_TOKEN,
      appId: env.WECHAT_APP_ID,
      appSecret: env.WECHAT_APP_SECRET,
      ...(env.WECHAT_AES_KEY ? { mode: 'safe' as const, encodingAESKey: env.WECHAT_AES_KEY } : {}),
    })
  }
  if (env.ALIYUN_SMS_ACCESS_KEY_ID && env.ALIYUN_SMS_ACCESS_KEY_SECRET && env.ALIYUN_SMS_TEMPLATES) {
    const { aliyunSms } = await import('@intake/channels/aliyun-sms')
    const codes = Object.fromEntries(list(env.ALIYUN_SMS_TEMPLATES).map((pair) => pair.split('=').map((s) => s.trim()) as [string, string]))
    const template = (key: string) => ({ code: codes[key] ?? '', params: { code: 'trackingCode' as const } })
    channels.aliyun = aliyunSms({
      accessKeyId: env.ALIYUN_SMS_ACCESS_KEY_ID,
      accessKeySecret: env.ALIYUN_SMS_ACCESS_KEY_SECRET,
      signName: env.ALIYUN_SMS_SIGN_NAME ?? '',
      pushToken: env.ALIYUN_SMS_PUSH_TOKEN ?? '',
      templates: { acknowledgement: template('acknowledgement'), status: template('status'), survey: template('survey') },
    })
  }
  if (env.WECOM_BOT_TOKEN && env.WECOM_BOT_AES_KEY) {
    const { wecomBot } = await import('@intake/channels/wecom-bot')
    const groups = Object.fromEntries(list(env.WECOM_BOT_GROUPS).map((pair) => pair.split('=').map((s) => s.trim()) as [string, string]))
    channels.village = wecomBot({ token: env.WECOM_BOT_TOKEN, encodingAESKey: env.WECOM_BOT_AES_KEY, groups })
  }
  if (env.WEIBO_APP_SECRET && env.WEIBO_ACCOUNTS) {
    const { weiboChannel } = await import('@intake/channels/weibo')
    for (const pair of list(env.WEIBO_ACCOUNTS)) {
      const [uid = '', accessToken = ''] = pair.split('=').map((s) => s.trim())
      channels[`weibo-${uid}`] = weiboChannel({ appSecret: env.WEIBO_APP_SECRET, accessToken, accountUid: uid })
    }
  }
  if (env.DOUYIN_CLIENT_KEY && env.DOUYIN_CLIENT_SECRET && env.DOUYIN_ACCOUNT_OPEN_ID && env.DOUYIN_ACCESS_TOKEN) {
    const { douyinChannel } = await import('@intake/channels/douyin')
    const setting = env.DOUYIN_COMMENTS ?? (env.DOUYIN_ACCOUNT_NAME ? `mention:${env.DOUYIN_ACCOUNT_NAME}` : 'none')
    const [mode = 'none', arg = ''] = setting.split(/:(.*)/s)
    const comments =
      mode === 'all' ? { mode: 'all' as const } : mode === 'mention' ? { mode: 'mentions' as const, name: arg } : mode === 'keywords' ? { mode: 'keywords' as const, keywords: arg.split('|').filter(Boolean) } : { mode: 'none' as const }
    channels.douyin = douyinChannel({
      clientKey: env.DOUYIN_CLIENT_KEY,
      clientSecret: env.DOUYIN_CLIENT_SECRET,
      accountOpenId: env.DOUYIN_ACCOUNT_OPEN_ID,
      accessToken: env.DOUYIN_ACCESS_TOKEN,
      comments,
    })
  }
  return channels
}

export async function transcriberFromEnv(env: Env): Promise<Transcriber | undefined> {
  if (env.INTAKE_TRANSCRIBE_URL) {
    const { openAiTranscriber } = await import('@intake/transcription/openai')
    return openAiTranscriber({ baseURL: env.INTAKE_TRANSCRIBE_URL, apiKey: env.INTAKE_TRANSCRIBE_KEY ?? 'none', model: env.INTAKE_TRANSCRIBE_MODEL })
  }
  if (env.INTAKE_TRANSCRIBER === 'pocketsphinx') {
    const { pocketsphinxTranscriber } = await import('@intake/transcription/pocketsphinx')
    return pocketsphinxTranscriber({})
  }
  return undefined
}
