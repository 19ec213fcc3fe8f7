/** The gateway's own addresses, which a subscription must not point at. */
export interface GatewayAddress {
  host: string
  port: number
  publicUrl: string
}

const LOOPBACK_NAMES = new Set(['localhost', 'localhost.', '0.0.0.0', '::', '::1'])

/** Whether a host name is this machine: localhost, 127.0.0.0/8, ::1, the unspecified addresses. */
function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase()
  return LOOPBACK_NAMES.has(host) || /^127(\.\d{1,3}){3}$/.test(host) || host === '::ffff:127.0.0.1' || host.endsWith('.localhost')
}

const portOf = (url: URL) => (url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80)
const sameHost = (a: string, b: string) => a.replace(/^\[|\]$/g, '').toLowerCase() === b.replace(/^\[|\]$/g, '').toLowerCase()

/**
 * Why a subscription may not POST to `url`, or undefined when it may: only http(s), no
 * credentials in the URL (they would be logged and shown), and never the gateway itself — its
 * public URL, the host and port it listens on, or a loopback address on its port — since a
 * gateway that posts its events to itself makes an event of every delivery, without end.
 * (A name that resolves to this machine through DNS is not looked up here.)
 */
export function webhookTargetProblem(url: string, gateway: GatewayAddress): string | undefined {
  let target: URL
  try {
    target = new URL(url)
  } catch {
    return `"${url}" is not a URL`
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') return `only http and https URLs are allowed, not ${target.protocol.replace(/:$/, '')}`
  if (target.username || target.password) return 'put no user or password in the URL: the payloads are signed with the secret'
  const own = new URL(gateway.publicUrl)
  const port = portOf(target)
  if (sameHost(target.hostname, own.hostname) && port === portOf(own)) return `${target.host} is this gateway's public URL (${gateway.publicUrl}): a subscription must point at another system`
  if (port === gateway.port && (sameHost(target.hostname, gateway.host) || isLoopback(target.hostname))) {
    return `${target.host} is this gateway itself (it listens on ${gateway.host}:${gateway.port}): a subscription must point at another system`
  }
  return undefined
}
