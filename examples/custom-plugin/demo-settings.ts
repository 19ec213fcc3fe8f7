/** The demo's made-up LINE credentials and the stand-in's port: fine on a laptop, never in production. */
export const DEMO_CHANNEL_SECRET = '0123456789abcdef0123456789abcdef'
export const DEMO_ACCESS_TOKEN = 'demo-line-channel-access-token-change-me'
export const DEMO_LINE_PORT = 3990
