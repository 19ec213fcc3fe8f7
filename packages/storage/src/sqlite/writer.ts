/**
 * `sqliteStore({ writer: 'thread' })`: one writer thread per database file and process
 * (writer-thread.ts) runs every write, in group commits, on a connection of its own; reads stay on
 * the calling thread's connection. The main thread's event loop then never waits on an INSERT, a
 * COMMIT's fsync or a write lock: it goes on verifying, parsing and routing the next requests while
 * the writer commits the last ones. A store opened with the same file in another thread of the
 * process (`intake start`'s delivery thread loads the same config) sends its writes to the same
 * writer, so the process has one writer and its threads never wait for each other's lock, and
 * their writes share commits. Every write still settles only after its COMMIT, so nothing is
 * acknowledged before it is durable, and a read made after a write settles sees it (WAL: each
 * read sees the latest commit).
 */
import { resolve } from 'node:path'
import { BroadcastChannel, getEnvironmentData, setEnvironmentData, type Worker } from 'node:worker_threads'
import { StoreConflictError, workerWithProcessFlags, type Store } from '@intake/core'
import { COMPONENT } from './rows.ts'

/** The Store methods that write; the writer thread runs them. Everything else reads. */
export const WRITE_METHODS = [
  'migrate',
  'saveOffices',
  'recordInbound',
  'applyCaseChange',
  'applyCaseChanges',
  'linkCluster',
  'claimOutbox',
  'completeOutbox',
  'completeOutboxBatch',
  'failOutbox',
  'retryOutbox',
  'updateDeliveryStatus',
  'claimTranscriptions',
  'recordTranscription',
  'setOnDuty',
  'setOptOut',
  'eraseCitizenData',
  'saveUser',
  'saveApiToken',
  'saveSession',
  'touchSession',
  'deleteSessions',
  'recordAccountEvent',
  'saveOfficeSettings',
  'rebuildCaseStats',
  'planTimers',
  'claimTimers',
  'completeTimer',
  'enqueueWebhookDeliveries',
  'claimWebhookDeliveries',
  'recordWebhookAttempt',
  'retryWebhookDelivery',
  'saveWebhookSubscription',
  'deleteWebhookSubscription',
  'linkExternal',
  'applyExternalUpdate',
] as const satisfies ReadonlyArray<keyof Store>

export type WriteMethod = (typeof WRITE_METHODS)[number] | 'close'

export interface WriterCall {
  id: number
  method: WriteMethod
  /** The arguments, or their JSON for the methods in JSON_ARGS. */
  args: unknown[] | string
}

/**
 * Methods whose arguments cross to the writer as JSON text rather than by structured clone: the
 * intake write is a tree of a hundred small fields, which V8 writes and reads back faster as JSON
 * (bench/intake: ~19 + 27 µs by structured clone, ~14 + 15 µs as JSON, per message, on the writer
 * thread's critical path), and everything in it is stored as JSON or plain columns anyway
 * (an undefined field means absent either way).
 */
const JSON_ARGS: ReadonlySet<WriteMethod> = new Set(['recordInbound'])

/** The arguments of a call as the writer runs them. */
export const argsOf = (call: WriterCall): unknown[] => (typeof call.args === 'string' ? (JSON.parse(call.args) as unknown[]) : call.args)

/** An error as it crosses threads: structured clone keeps neither its class nor its extra fields. */
export interface WireError {
  message: string
  code?: string
  field?: string
}

export type WriterReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WireError }

/** What other threads send the writer on its broadcast channel. */
export type WriterRequest = { hello: string } | { client: string; calls: WriterCall[] }

/** What the writer (or the main thread, about the writer) says to one client or to all of them. */
export type WriterNotice = { ready: true } | { replies: WriterReply[] } | { gone: WireError }

export interface WriterThreadOptions {
  file: string
  synchronous: 'normal' | 'full'
  busyTimeoutMs: number
}

export interface WriterThread {
  call(method: WriteMethod, args: unknown[]): Promise<unknown>
  /** The main thread closes the writer (its queued writes commit first); another thread only lets go of it. */
  close(): Promise<void>
}

/** The broadcast channels of a file's writer: requests in, and one channel per client for answers. */
export const writerChannel = (file: string, client?: string) => `intake:sqlite-writer:${resolve(file)}${client ? `:${client}` : ''}`
const NOTICES = ':notices'

export function errorToWire(error: unknown): WireError {
  const e = error as { message?: unknown; code?: unknown; field?: unknown } | null
  return {
    message: typeof e?.message === 'string' ? e.message : String(error),
    ...(typeof e?.code === 'string' ? { code: e.code } : {}),
    ...(typeof e?.field === 'string' ? { field: e.field } : {}),
  }
}

export function errorFromWire(wire: WireError): Error {
  if (wire.code === 'store_conflict' && wire.field) return new StoreConflictError(wire.field)
  return Object.assign(new Error(wire.message), wire.code ? { code: wire.code } : {})
}

/** Pending calls by id, and the calls of this turn, sent together in one message. */
function callQueue(send: (calls: WriterCall[]) => void) {
  let nextId = 1
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>()
  let outgoing: WriterCall[] = []
  const inFlight = new Set<Promise<unknown>>()
  const flush = () => {
    if (outgoing.length === 0) return
    const calls = outgoing
    outgoing = []
    send(calls)
  }
  return {
    pending,
    call(method: WriteMethod, args: unknown[]): Promise<unknown> {
      const call = new Promise((resolve, reject) => {
        // Encoded first: arguments JSON cannot carry (a BigInt) reject this call and leave nothing pending.
        const wire = JSON_ARGS.has(method) ? JSON.stringify(args) : args
        const id = nextId++
        pending.set(id, { resolve, reject })
        if (outgoing.push({ id, method, args: wire }) === 1) setImmediate(flush)
      })
      inFlight.add(call)
      const done = () => void inFlight.delete(call)
      call.then(done, done)
      return call
    },
    /** Settles once every call made so far has an answer. */
    async drain() {
      flush()
      await Promise.allSettled([...inFlight])
    },
    /** Sends what is queued now rather than at the end of the turn. */
    flush,
    settle(replies: WriterReply[]) {
      for (const reply of replies) {
        const waiting = pending.get(reply.id)
        if (!waiting) continue
        pending.delete(reply.id)
        if (reply.ok) waiting.resolve(reply.value)
        else waiting.reject(errorFromWire(reply.error))
      }
    },
    failAll(error: Error) {
      for (const [id, waiting] of pending) {
        pending.delete(id)
        waiting.reject(error)
      }
    },
  }
}

const writerGone = (reason: string) => Object.assign(new Error(`${COMPONENT} writer thread ${reason}`), { code: 'writer_failed' })

/**
 * The main thread's side: starts the file's writer thread on the first write (a config loaded only
 * to be read starts none) and tells threads started from then on that it exists. If the thread dies, the writes in flight fail (their callers answer 5xx, so
 * providers retry: the inbox makes a retry of a write that did commit a duplicate, not a second
 * case) and a new writer starts.
 */
export function startWriterThread(options: WriterThreadOptions): WriterThread {
  const notices = new BroadcastChannel(writerChannel(options.file) + NOTICES)
  notices.unref()
  let worker: Worker | undefined
  let closing = false

  const queue = callQueue((calls) => {
    const w = (worker ??= spawn())
    w.ref()
    w.postMessage(calls)
  })

  const spawn = (): Worker => {
    const w = workerWithProcessFlags(new URL('./writer-thread.mjs', import.meta.url), { workerData: options })
    // Threads started from now on (the delivery thread) write through this writer.
    setEnvironmentData(writerChannel(options.file), true)
    w.on('message', (replies: WriterReply[]) => {
      queue.settle(replies)
      // An idle writer does not keep the process alive; one with writes in flight does.
      if (queue.pending.size === 0) w.unref()
    })
    const gone = (reason: string) => {
      if (worker !== w) return
      worker = undefined
      const error = writerGone(reason)
      queue.failAll(error)
      notices.postMessage({ gone: errorToWire(error) } satisfies WriterNotice)
      // A new writer a second later (at once if this thread writes first): one that dies at start
      // must not be restarted in a tight loop. Other threads' stores greet it until it answers.
      if (!closing) setTimeout(() => void (closing || (worker ??= spawn())), 1000).unref()
    }
    w.on('error', (error) => gone(`failed: ${error.message}`))
    w.on('exit', (code) => gone(`exited (code ${code})`))
    // After the listeners: adding a 'message' listener refs the thread's port again.
    w.unref()
    return w
  }

  return {
    call: queue.call,
    async close() {
      if (closing) return
      closing = true
      setEnvironmentData(writerChannel(options.file), undefined)
      // A writer that never started (nothing was written) or is gone has nothing to commit.
      if (worker || queue.pending.size > 0) {
        const closed = queue.call('close', [])
        queue.flush()
        await closed
      }
      const w = worker
      worker = undefined
      notices.postMessage({ gone: { message: `${COMPONENT} store is closed`, code: 'store_closed' } } satisfies WriterNotice)
      notices.close()
      await w?.terminate()
    },
  }
}

/**
 * Another thread's side: the writer the main thread started for this file, reached over broadcast
 * channels; undefined when there is none (the store then writes inline).
 */
export function joinWriterThread(file: string): WriterThread | undefined {
  if (getEnvironmentData(writerChannel(file)) !== true) return undefined
  const client = `${process.pid}-${Math.random().toString(36).slice(2)}`
  const requests = new BroadcastChannel(writerChannel(file))
  const answers = new BroadcastChannel(writerChannel(file, client))
  const notices = new BroadcastChannel(writerChannel(file) + NOTICES)
  let ready = false
  let closedByMain: WireError | undefined
  let waiting: WriterCall[] = []
  let hello: NodeJS.Timeout | undefined

  const queue = callQueue((calls) => {
    // The main thread closed the store: nothing will answer.
    if (closedByMain) return queue.failAll(errorFromWire(closedByMain))
    answers.ref()
    if (ready) return requests.postMessage({ client, calls } satisfies WriterRequest)
    // The writer may still be starting: greet it until it answers, then send what waited.
    waiting.push(...calls)
    if (hello) return
    const greet = () => requests.postMessage({ hello: client } satisfies WriterRequest)
    greet()
    hello = setInterval(greet, 25)
    hello.unref()
  })
  const idle = () => {
    if (queue.pending.size === 0) answers.unref()
  }

  answers.onmessage = (event) => {
    const notice = (event as { data: WriterNotice }).data
    if ('ready' in notice) {
      if (ready) return
      ready = true
      clearInterval(hello)
      hello = undefined
      const calls = waiting
      waiting = []
      if (calls.length) requests.postMessage({ client, calls } satisfies WriterRequest)
    } else if ('replies' in notice) {
      queue.settle(notice.replies)
      idle()
    }
  }
  notices.onmessage = (event) => {
    const notice = (event as { data: WriterNotice }).data
    if (!('gone' in notice)) return
    // The writer died (a new one is starting) or closed: what it had not answered is lost.
    ready = false
    waiting = []
    if (notice.gone.code === 'store_closed') closedByMain = notice.gone
    queue.failAll(errorFromWire(notice.gone))
    idle()
  }

  // After the handlers: setting onmessage refs a channel. Idle channels keep no thread alive.
  for (const channel of [requests, answers, notices]) channel.unref()

  return {
    call: queue.call,
    async close() {
      await queue.drain()
      clearInterval(hello)
      for (const channel of [requests, answers, notices]) channel.close()
    },
  }
}
