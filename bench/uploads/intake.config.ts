/**
 * The county-hotline demo with its web form's upload bound set from BENCH_MAX_UPLOADS, so
 * bench/uploads can run the same gateway bounded (the default) and effectively unbounded.
 */
import { defineConfig } from '@intake/core'
import { webForm } from '@intake/channels/web-form'
import demo from '../../examples/county-hotline/intake.config.ts'

const bound = Number(process.env.BENCH_MAX_UPLOADS ?? 8)

export default defineConfig({
  ...demo,
  channels: { ...demo.channels, web: webForm({ maxConcurrentUploads: bound }) },
  // The bench's citizens all post from 127.0.0.1: no per-address budget in the way.
  submissions: { points: 1_000_000, durationMs: 60_000 },
})
