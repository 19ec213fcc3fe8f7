/**
 * The SQLite writer thread (see writer.ts): one connection that runs every write of the main
 * thread's store in group commits, so the main thread's event loop never waits on an INSERT, an
 * fsync or another connection's write lock.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { sqliteStore } from './index.ts'
import { errorToWire, type WriterCall, type WriterReply, type WriterThreadOptions } from './writer.ts'

const store = sqliteStore({ ...(workerData as WriterThreadOptions), writer: 'inline' })
const port = parentPort!

let replies: WriterReply[] = []
const send = (reply: WriterReply) => {
  // One message per turn for all the writes that settled in it (a group commit settles many at once).
  if (replies.push(reply) === 1) setImmediate(() => port.postMessage(replies.splice(0)))
}

port.on('message', (calls: WriterCall[]) => {
  for (const { id, method, args } of calls) {
    const run = (store[method] as (...a: unknown[]) => Promise<unknown>).apply(store, args)
    run.then(
      (value) => send({ id, ok: true, value }),
      (error: unknown) => send({ id, ok: false, error: errorToWire(error) }),
    )
  }
})
