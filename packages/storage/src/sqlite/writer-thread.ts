/**
 * The SQLite writer thread (see writer.ts): one connection that runs every write of the process's
 * stores on one database file in group commits — the main thread's, sent over its port, and other
 * threads', sent over a broadcast channel.
 */
import { BroadcastChannel, parentPort, workerData } from 'node:worker_threads'
import { sqliteStore } from './index.ts'
import {
  argsOf,
  errorToWire,
  writerChannel,
  type WriterCall,
  type WriterNotice,
  type WriterReply,
  type WriterRequest,
  type WriterThreadOptions,
} from './writer.ts'

const options = workerData as WriterThreadOptions
const store = sqliteStore({ ...options, writer: 'inline' })

/** Runs calls, answering all those that settle in one turn in one message (a group commit settles many at once). */
function runner(post: (replies: WriterReply[]) => void) {
  let replies: WriterReply[] = []
  const send = (reply: WriterReply) => {
    if (replies.push(reply) === 1) setImmediate(() => post(replies.splice(0)))
  }
  return (calls: WriterCall[]) => {
    for (const call of calls) {
      const { id, method } = call
      const run = (store[method] as (...a: unknown[]) => Promise<unknown>).apply(store, argsOf(call))
      run.then(
        (value) => send({ id, ok: true, value }),
        (error: unknown) => send({ id, ok: false, error: errorToWire(error) }),
      )
    }
  }
}

parentPort!.on('message', runner((replies) => parentPort!.postMessage(replies)))

const clients = new Map<string, { answers: BroadcastChannel; run: (calls: WriterCall[]) => void }>()
const clientOf = (id: string) => {
  let client = clients.get(id)
  if (!client) {
    const answers = new BroadcastChannel(writerChannel(options.file, id))
    answers.unref()
    client = { answers, run: runner((replies) => answers.postMessage({ replies } satisfies WriterNotice)) }
    clients.set(id, client)
  }
  return client
}
const requests = new BroadcastChannel(writerChannel(options.file))
requests.onmessage = (event) => {
  const request = (event as { data: WriterRequest }).data
  if ('hello' in request) clientOf(request.hello).answers.postMessage({ ready: true } satisfies WriterNotice)
  else clientOf(request.client).run(request.calls)
}
requests.unref()
