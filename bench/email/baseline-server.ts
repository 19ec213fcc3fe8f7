/**
 * The baseline of bench/email: the least an SMTP intake must do per mail — a bare smtp-server with
 * the same size limit, the whole mail parsed with mailparser, one row inserted with better-sqlite3
 * under the real store's durability (WAL, synchronous=FULL), then 250. No recipient check, no
 * routing, no case, no acknowledgement. Run as its own process by run.ts: BENCH_PORT, BENCH_DB.
 */
import { baselineSettings, openBaselineStore } from '../support/baseline.ts'
import { importFromWorkspace } from '../support/workspace-deps.ts'

type SmtpServerModule = typeof import('../../packages/channels/node_modules/smtp-server/dist/esm/smtp-server.js')
type MailparserModule = typeof import('../../packages/channels/node_modules/@types/mailparser/index.d.ts')

const { SMTPServer } = await importFromWorkspace<SmtpServerModule>('channels', 'smtp-server')
const mailparser = await importFromWorkspace<MailparserModule & { default?: MailparserModule }>('channels', 'mailparser')
const simpleParser = (mailparser.default ?? mailparser).simpleParser
const { port, file } = baselineSettings('bench/email baseline')
const maxBytes = Number(process.env.BENCH_MAX_BYTES ?? 25 * 1024 * 1024)

const db = await openBaselineStore(file, 'CREATE TABLE IF NOT EXISTS mails (message_id TEXT PRIMARY KEY, sender TEXT NOT NULL, subject TEXT, text TEXT NOT NULL, received_at INTEGER NOT NULL)')
const insert = db.prepare('INSERT OR IGNORE INTO mails (message_id, sender, subject, text, received_at) VALUES (?, ?, ?, ?, ?)')

const server = new SMTPServer({
  logger: false,
  disabledCommands: ['AUTH', 'STARTTLS'],
  authOptional: true,
  size: maxBytes,
  rejectOversized: true,
  disableReverseLookup: true,
  onData(stream, session, callback) {
    const chunks: Buffer[] = []
    stream.on('data', (c: Buffer) => chunks.push(c))
    stream.on('end', () => {
      simpleParser(Buffer.concat(chunks)).then(
        (mail) => {
          const sender = mail.from?.value[0]?.address ?? (session.envelope.mailFrom ? session.envelope.mailFrom.address : '')
          insert.run(mail.messageId ?? `no-id-${Date.now()}-${Math.random()}`, sender, mail.subject ?? null, mail.text ?? '', Date.now())
          callback(null, 'OK')
        },
        (err: Error) => callback(Object.assign(err, { responseCode: 451 })),
      )
    })
  },
})
server.listen(port, '127.0.0.1')
process.once('SIGTERM', () => {
  server.close(() => {
    db.close()
    process.exit(0)
  })
})
