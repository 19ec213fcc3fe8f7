/**
 * The demo switches channels on from the environment: with nothing set it is the web form and the
 * api channel; each provider's variables add its channel (checked in a fresh process, as `intake
 * start` loads the config).
 */
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const ROOT = join(import.meta.dirname, '..', '..')

async function configured(env: Record<string, string>): Promise<{ channels: string[]; transcriber: string | null }> {
  const script = `const { default: c } = await import('./examples/county-hotline/intake.config.ts'); console.log(JSON.stringify({ channels: Object.keys(c.channels), transcriber: c.transcriber?.name ?? null }))`
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH!, INTAKE_DATA_DIR: join(ROOT, 'data'), ...env },
    // A config that keeps its process alive (a writer thread that never lets go) fails here, killed, not left running.
    timeout: 20_000,
  })
  return JSON.parse(stdout.trim().split('\n').at(-1)!)
}

describe('the demo configuration', () => {
  it('runs the web form and the api channel when nothing else is configured', async () => {
    expect(await configured({})).toEqual({ channels: ['web', 'api', 'open311'], transcriber: null })
  })

  it('adds SMS, voice, email, Telegram, WeChat, Alibaba Cloud SMS, WeCom, Weibo, Douyin and speech from their environment variables', async () => {
    const env = {
      TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`,
      TWILIO_AUTH_TOKEN: 'f'.repeat(32),
      TWILIO_SMS_FROM: '+15005550006',
      TWILIO_VOICE_FROM: '+15005550007',
      INTAKE_MAIL_ADDRESSES: '12345@kashgar.gov.example',
      TELEGRAM_BOT_TOKEN: '123456789:AAbbccddeeffgghhiijjkkllmmnnooppqq',
      WECHAT_TOKEN: 'wechatToken2026',
      WECHAT_APP_ID: 'wx0123456789abcdef',
      WECHAT_APP_SECRET: 'a'.repeat(32),
      ALIYUN_SMS_ACCESS_KEY_ID: 'LTAI5tDemoAccessKey01',
      ALIYUN_SMS_ACCESS_KEY_SECRET: 'b'.repeat(30),
      ALIYUN_SMS_SIGN_NAME: '伽师县人民检察院',
      ALIYUN_SMS_PUSH_TOKEN: 'demo-push-token-0123456789',
      ALIYUN_SMS_TEMPLATES: 'acknowledgement=SMS_465890012,status=SMS_465890013,survey=SMS_465890014',
      WECOM_BOT_TOKEN: 'villageBotToken26',
      WECOM_BOT_AES_KEY: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
      WECOM_BOT_GROUPS: 'wrkSFfCgAAjiashiVillage=5e1b7c1a-94d2-4bc4-97a0-0ec2sifa5a01',
      WEIBO_APP_SECRET: 'weiboAppSecret0123456789',
      WEIBO_ACCOUNTS: '1902538057=2.00jiashiToken0123456789,1902538058=2.00shuleToken01234567890',
      DOUYIN_CLIENT_KEY: 'awdouyinclientkey01',
      DOUYIN_CLIENT_SECRET: 'c'.repeat(32),
      DOUYIN_ACCOUNT_OPEN_ID: '_000accountOpenId0001',
      DOUYIN_ACCESS_TOKEN: 'act.' + 'd'.repeat(32),
      DOUYIN_COMMENTS: 'keywords:拖欠|污染',
      INTAKE_TRANSCRIBE_URL: 'http://127.0.0.1:9/v1',
    }
    expect(await configured(env)).toEqual({ channels: ['web', 'api', 'open311', 'sms', 'voice', 'mail', 'tg', 'wechat', 'aliyun', 'village', 'weibo-1902538057', 'weibo-1902538058', 'douyin'], transcriber: 'openai-transcriber' })
  })
})
