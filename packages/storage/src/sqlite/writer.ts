/**
 * `sqliteStore({ writer: 'thread' })`: the writes of the main thread's store run in a worker thread
 * with a connection of its own (writer-thread.ts); reads stay on the main thread's connection. An
 * INSERT, a COMMIT's fsync, or a wait for another connection's write lock then costs the gateway's
 * event loop nothing: it goes on verifying, parsing and routing the next requests while the writer
 * commits the last ones. Every write still settles only after its COMMIT, so nothing is acknowledged
 * before it is durable, and a read made after a write settles sees it (WAL: each read sees the
 * latest commit).
 */
import { Worker } from 'node:worker_threads'
import { StoreConflictError, type Store } from '@intake/core'
import { COMPONENT } from './rows.ts'

/** The Store methods that write; the writer thread runs them. Everything else reads. */
export const WRITE_METHODS = [
  'migrate',
  'close',
  'saveOffices',
  'recordInbound',
  'applyCaseChange',
  'claimOutbox',
  'completeOutbox',
  'failOutbox',
  'retryOutbox',
  'updateDeliveryStatus',
  'claimTranscriptions',
  'recordTranscription',
  'setOnDuty',
  'setOptOut',
] as const satisfies ReadonlyArray<keyof Store>

export type WriteMethod = (typeof WRITE_METHODS)[number]

export interface WriterCall {
  id: number
  method: WriteMethod
  args: unknown[]
}

/** An error as it crosses threads: structured clone keeps neither its class nor its extra fields. */
export interface WireError {
  message: string
  code?: string
  field?: string
}

export type WriterReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WireError }

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

export interface WriterThread {
  call(method: WriteMethod, args: unknown[]): Promise<unknown>
  /** Closes the thread's store (its queued writes commit first) and ends the thread. */
  close(): Promise<void>
}

export interface WriterThreadOptions {
  file: string
  synchronous: 'normal' | 'full'
  busyTimeoutMs: number
}

/**
 * Starts the writer thread for one database file on the first write. The calls made in one turn of
 * the event loop go over in one message, and the thread answers all the writes that settled in one
 * of its turns in one message, so a burst of messages costs two postMessage calls, not two per
 * write. If the thread dies, its pending writes fail (their callers answer 5xx, so providers retry)
 * and the next write starts a new thread.
 */
export function startWriterThread(options: WriterThreadOptions): WriterThread {
  let worker: Worker | undefined
  let nextId = 1
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>()
  let outgoing: WriterCall[] = []

  const spawn = (): Worker => {
    const w = new Worker(new URL('./writer-thread.mjs', import.meta.url), { workerData: options })
    w.on('message', (replies: WriterReply[]) => {
      for (const reply of replies) {
        const waiting = pending.get(reply.id)
        if (!waiting) continue
        pending.delete(reply.id)
        if (reply.ok) waiting.resolve(reply.value)
        else waiting.reject(errorFromWire(reply.error))
      }
      // An idle writer does not keep the process alive; one with writes in flight does.
      if (pending.size === 0) w.unref()
    })
    const fail = (reason: string) => {
      if (worker !== w) return
      worker = undefined
      const error = Object.assign(new Error(`${COMPONENT} writer thread ${reason}`), { code: 'writer_failed' })
      for (const [id, waiting] of pending) {
        pending.delete(id)
        waiting.reject(error)
      }
    }
    w.on('error', (error) => fail(`failed: ${error.message}`))
    w.on('exit', (code) => fail(`exited (code ${code})`))
    return w
  }

  const post = () => {
    if (outgoing.length === 0) return
    const calls = outgoing
    outgoing = []
    worker ??= spawn()
    worker.ref()
    worker.postMessage(calls)
  }

  const writer: WriterThread = {
    call(method, args) {
      return new Promise((resolve, reject) => {
        const id = nextId++
        pending.set(id, { resolve, reject })
        if (outgoing.push({ id, method, args }) === 1) setImmediate(post)
      })
    },
    async close() {
      if (!worker && outgoing.length === 0) return
      const closed = writer.call('close', [])
      post()
      await closed
      const w = worker
      worker = undefined
      await w?.terminate()
    },
  }
  return writer
}
