/**
 * Per-thread CPU and write I/O of one running process, from /proc (Linux): where a server's time
 * goes, steadier than throughput on a shared machine that swings between minutes.
 *
 *   npx tsx bench/intake/run.ts --variants gateway --seconds 15 &
 *   sleep 9; npx tsx bench/support/threads.ts [--pid N] [--seconds 5]
 *
 * Without --pid it samples the busiest process on the machine (the gateway under load). Each line:
 * the thread's name, CPU in cores (user and system), the share of each second it was ready to run but
 * waited for a CPU (schedstat: the machine is short of cores when this grows), bytes written per
 * second, write() calls per second.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { parseArgs } from 'node:util'

const { values } = parseArgs({ options: { pid: { type: 'string' }, seconds: { type: 'string', default: '5' } } })
const pid = values.pid ?? execFileSync('ps', ['-eo', 'pid', '--sort=-pcpu', '--no-headers']).toString().trim().split(/\s+/)[0]!
const seconds = Number(values.seconds)
const ticksPerSecond = 100 // USER_HZ on Linux

interface Sample {
  name: string
  user: number
  system: number
  bytes: number
  writes: number
  /** Nanoseconds spent runnable but waiting for a CPU (schedstat). */
  waiting: number
}

function sample(): Map<string, Sample> {
  const out = new Map<string, Sample>()
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      const io = Object.fromEntries(
        readFileSync(`/proc/${pid}/task/${tid}/io`, 'utf8')
          .trim()
          .split('\n')
          .map((line) => line.split(': ') as [string, string]),
      )
      // fields[0] is field 3 of stat(5): utime and stime are fields 14 and 15.
      const waiting = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1])
      out.set(tid, { name, user: Number(fields[11]), system: Number(fields[12]), bytes: Number(io.wchar), writes: Number(io.syscw), waiting })
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out
}

const before = sample()
await new Promise((resolve) => setTimeout(resolve, seconds * 1000))
const after = sample()
const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').slice(0, 120)
console.log(`pid ${pid} (${args}) over ${seconds} s`)
console.log('thread            user  system  waiting for CPU  MB/s written  write() /s')
let total = 0
for (const [tid, a] of after) {
  const b = before.get(tid)
  if (!b) continue
  const user = (a.user - b.user) / ticksPerSecond / seconds
  const system = (a.system - b.system) / ticksPerSecond / seconds
  total += user + system
  if (user + system < 0.005 && a.writes === b.writes) continue
  const mb = (a.bytes - b.bytes) / seconds / 1e6
  const writes = (a.writes - b.writes) / seconds
  const waiting = (a.waiting - b.waiting) / 1e9 / seconds
  console.log(`${`${a.name} ${tid}`.padEnd(16)} ${user.toFixed(2).padStart(5)} ${system.toFixed(2).padStart(7)} ${waiting.toFixed(2).padStart(16)} ${mb.toFixed(1).padStart(13)} ${writes.toFixed(0).padStart(11)}`)
}
console.log(`all threads: ${total.toFixed(2)} cores`)
