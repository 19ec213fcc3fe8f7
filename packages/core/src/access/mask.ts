import type { Case, CaseMessage, Contact } from '../model/index.ts'

/**
 * Citizens' contact details are shown only to the office handling the case, and only when asked
 * (each view is an event); everywhere else they are masked: 13812341234 → 138****1234,
 * li.wei@example.com → l***@example.com.
 */
export function maskValue(value: string): string {
  // A Chinese mobile number keeps its country code: +8613812341234 → +86138****1234.
  const cn = /^(\+86|0086)(\d{11})$/.exec(value.replace(/[\s-]/g, ''))
  if (cn) return cn[1]! + maskValue(cn[2]!)
  const at = value.indexOf('@')
  if (at > 0) return `${value[0]}***${value.slice(at)}`
  const chars = [...value]
  if (chars.length <= 4) return '****'
  if (chars.length <= 7) return `${chars.slice(0, 1).join('')}****${chars.slice(-2).join('')}`
  return `${chars.slice(0, 3).join('')}****${chars.slice(-4).join('')}`
}

function maskContact(contact: Contact | null): Contact | null {
  if (!contact) return contact
  return {
    ...(contact.name !== undefined ? { name: maskName(contact.name) } : {}),
    ...(contact.phone !== undefined ? { phone: maskValue(contact.phone) } : {}),
    ...(contact.email !== undefined ? { email: maskValue(contact.email) } : {}),
  }
}

/** 李伟 → 李*; Jane Smith → J*** */
export function maskName(name: string): string {
  const chars = [...name.trim()]
  return chars.length === 0 ? '' : `${chars[0]}${/[\u4e00-\u9fff]/.test(chars[0]!) ? '*'.repeat(Math.max(1, chars.length - 1)) : '***'}`
}

export function maskCase(kase: Case): Case {
  return {
    ...kase,
    citizen: {
      channelId: kase.citizen.channelId,
      id: maskValue(kase.citizen.id),
      ...(kase.citizen.displayName !== undefined ? { displayName: maskName(kase.citizen.displayName) } : {}),
    },
    contact: maskContact(kase.contact),
  }
}

/** The citizen's address is the author of what they sent. */
export function maskMessage(message: CaseMessage): CaseMessage {
  return message.direction === 'in' ? { ...message, author: maskValue(message.author) } : message
}
