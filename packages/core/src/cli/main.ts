#!/usr/bin/env -S npx tsx --max-semi-space-size=32
import { parseArgs } from 'node:util'
import { serve } from '@hono/node-server'
import { configDirOf } from '../config/index.ts'
import { describeCliFailure } from './cli-error.ts'
import { createIntake } from '../intake.ts'
import { threadedDeliveries } from './delivery-runner.ts'
import { loadConfig } from './load-config.ts'
import { routeEvalCommand } from './route-eval.ts'
import { accountCommand, auditVerifyCommand } from './accounts-command.ts'
import { trainCommand } from './train.ts'
import { clusterWorkerId, isClusterWorker, parseWorkerCount, superviseWorkers, workersRefusal } from './workers.ts'

const USAGE = `intake — omnichannel intake gateway for public offices

usage:
  intake start   [--config intake.config.ts] [--workers N]
                                               migrate, then serve the gateway; --workers N runs N gateway
                                               processes on the one port (node:cluster; PostgreSQL store only)
  intake migrate [--config intake.config.ts]   apply the store's migrations and save the offices
  intake send    [--config intake.config.ts] --channel ID --text TEXT [--from ID] [--place PLACE] [--id MESSAGE_ID]
                                               simulate an inbound message on a channel and deliver its replies
  intake export-citizen [--config intake.config.ts] --channel ID --id ADDRESS
                                               print everything stored about one citizen on one channel (JSON)
  intake migrate-store --from FILE.db --to postgres://…
                                               copy a SQLite deployment's data into an empty PostgreSQL database
                                               and verify every table's row count and content hash
  intake route-eval FILE.csv [--config intake.config.ts] [--json] [--folds K]
                                               run the configured routing chain over a labelled CSV (text, place,
                                               expected_office, expected_category): accuracy, precision, recall;
                                               --folds K: K-fold cross-validation of the chain's trained classifier,
                                               with the chain without it as the same run's anchor
  intake train FILE.csv | --from-store [--config intake.config.ts]
                                               train the chain's byTrainedClassifier and save its model file: from a
                                               CSV (text, subject, category and/or office) or from resolved and
                                               closed cases (labelled by the resolving office and their category)
  intake stats rebuild [--config intake.config.ts]
                                               recompute every case's statistics row from the case and its events
  intake user add --login L --name N --office ID --role caseworker|lead|supervisor|admin [--password P]
  intake user disable|enable|reset-password LOGIN [--password P]
                                               staff accounts (a password not given is generated and printed once)
  intake token add --user LOGIN | --integration NAME [--scopes read,reply,dispatch] [--office ID]
                                               an API token, printed once (only its hash is stored)
  intake audit verify                          walk the audit hash chains; exit 1 naming the first broken row

--debug prints the stack trace of an error.
environment: INTAKE_PORT, INTAKE_HOST, INTAKE_PUBLIC_URL, INTAKE_API_KEYS, INTAKE_DATA_DIR, INTAKE_LOG_LEVEL`

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      config: { type: 'string', default: 'intake.config.ts' },
      channel: { type: 'string' },
      text: { type: 'string' },
      from: { type: 'string', default: 'cli-user' },
      place: { type: 'string' },
      id: { type: 'string' },
      json: { type: 'boolean', default: false },
      debug: { type: 'boolean', default: false },
      login: { type: 'string' },
      name: { type: 'string' },
      office: { type: 'string' },
      role: { type: 'string' },
      password: { type: 'string' },
      user: { type: 'string' },
      integration: { type: 'string' },
      scopes: { type: 'string' },
      folds: { type: 'string' },
      'from-store': { type: 'boolean', default: false },
      to: { type: 'string' },
      workers: { type: 'string' },
    },
    strict: true,
    allowPositionals: ['route-eval', 'stats', 'train', 'user', 'token', 'audit'].includes(command ?? ''),
  })
  if (!command || command === 'help' || command === '--help') {
    console.log(USAGE)
    return command ? 0 : 2
  }
  if (command === 'migrate-store') {
    // The command lives with the store drivers (core depends on none of them): it is looked up by
    // name at run time, from the workspace or wherever @intake/storage is installed.
    const specifier = '@intake/storage/migrate-store'
    const { migrateStoreCommand } = (await import(specifier)) as {
      migrateStoreCommand: (args: { from?: string; to?: string }) => Promise<number>
    }
    // --from is also `send`'s sender, with a default: here it counts only when given.
    const fromGiven = rest.some((arg) => arg === '--from' || arg.startsWith('--from='))
    return migrateStoreCommand({ from: fromGiven ? values.from : undefined, to: values.to })
  }
  const config = await loadConfig(values.config!)
  const configDir = configDirOf(values.config!)
  if (command === 'start' && !isClusterWorker()) {
    const workers = parseWorkerCount(values.workers)
    const refusal = typeof workers === 'string' ? workers : workersRefusal(workers, config.store.driver)
    if (refusal || typeof workers === 'string') {
      console.error(refusal)
      return 2
    }
    if (workers > 1) return superviseWorkers(workers)
  }
  // `start` delivers replies from a worker thread; the one-shot commands deliver inline.
  const deliveries = command === 'start' ? threadedDeliveries(values.config!, () => intake.log) : undefined
  const logFields = isClusterWorker() ? { worker: clusterWorkerId(), pid: process.pid } : undefined
  const intake = createIntake(config, { configDir, deliveries, logFields })

  switch (command) {
    case 'migrate': {
      await intake.store.migrate()
      await intake.store.saveOffices(intake.config.offices)
      console.log(`migrated ${intake.store.driver} store; ${intake.config.offices.length} offices saved`)
      await intake.store.close()
      return 0
    }
    case 'send': {
      if (!values.channel || !values.text) {
        console.error('intake send needs --channel and --text\n\n' + USAGE)
        return 2
      }
      await intake.store.migrate()
      await intake.store.saveOffices(intake.config.offices)
      const result = await intake.ingest(values.channel, {
        externalId: values.id ?? `cli-${Date.now()}`,
        from: { channelId: values.channel, id: values.from! },
        text: values.text,
        place: values.place ? { text: values.place } : undefined,
        receivedAt: Date.now(),
      })
      await intake.outbox.drain()
      const { case: _c, ...rest } = { case: await intake.store.getCase(result.caseId), ...result }
      console.log(JSON.stringify({ ...rest, statusUrl: intake.pipeline.statusUrl(result.trackingCode) }, null, 2))
      await intake.store.close()
      return 0
    }
    case 'start': {
      await intake.start()
      await deliveries!.start()
      const { port, host } = intake.config.server
      const server = serve({ fetch: intake.app.fetch, port, hostname: host }, (info) => {
        intake.log.info('listening', { url: intake.config.server.publicUrl, port: info.port })
        if (process.stdout.isTTY || process.env.INTAKE_BANNER !== '0') {
          console.error(`\n  Intake is running: open ${intake.config.server.publicUrl}/ for the web form, ${intake.config.server.publicUrl}/api/v1/docs for the API\n`)
          for (const line of intake.notices) console.error(`  ${line}`)
          if (intake.notices.length) console.error('')
        }
      })
      const shutdown = async (signal: string) => {
        intake.log.info('shutting down', { signal })
        server.close()
        await deliveries!.stop()
        await intake.stop()
        await intake.store.close()
        process.exit(0)
      }
      process.once('SIGINT', () => void shutdown('SIGINT'))
      process.once('SIGTERM', () => void shutdown('SIGTERM'))
      return -1
    }
    case 'export-citizen': {
      if (!values.channel || !values.id) {
        console.error('intake export-citizen needs --channel and --id (the citizen\'s address on that channel)\n\n' + USAGE)
        return 2
      }
      await intake.store.migrate()
      console.log(JSON.stringify(await intake.store.exportCitizen(values.channel, values.id), null, 2))
      await intake.store.close()
      return 0
    }
    case 'user':
    case 'token': {
      const code = await accountCommand(command, intake, { ...values, positionals })
      await intake.store.close()
      return code
    }
    case 'audit': {
      if (positionals[0] !== 'verify') {
        console.error('usage: intake audit verify')
        return 2
      }
      const code = await auditVerifyCommand(intake)
      await intake.store.close()
      return code
    }
    case 'stats': {
      if (positionals[0] !== 'rebuild') {
        console.error(`intake stats needs a subcommand: rebuild\n\n${USAGE}`)
        return 2
      }
      await intake.store.migrate()
      const started = Date.now()
      const { cases } = await intake.store.rebuildCaseStats()
      console.log(`rebuilt the statistics of ${cases} cases from their events in ${((Date.now() - started) / 1000).toFixed(1)} s`)
      await intake.store.close()
      return 0
    }
    case 'route-eval': {
      const folds = values.folds === undefined ? undefined : Number(values.folds)
      if (folds !== undefined && !Number.isInteger(folds)) {
        console.error(`--folds takes a whole number, not "${values.folds}"`)
        return 2
      }
      return routeEvalCommand({ file: positionals[0], json: values.json, folds, routing: intake.config.routing, offices: intake.offices })
    }
    case 'train': {
      const code = await trainCommand({ file: positionals[0], fromStore: values['from-store'], routing: intake.config.routing, offices: intake.offices, store: intake.store })
      await intake.store.close()
      return code
    }
    default:
      console.error(`unknown command "${command}"\n\n${USAGE}`)
      return 2
  }
}

const args = process.argv.slice(2)
main(args).then(
  (code) => {
    if (code >= 0) process.exit(code)
  },
  (err) => {
    const at = args.indexOf('--config')
    const configFile = at >= 0 ? args[at + 1] : args.find((a) => a.startsWith('--config='))?.slice('--config='.length) ?? 'intake.config.ts'
    const failure = describeCliFailure(err, { debug: args.includes('--debug'), configFile })
    for (const line of failure.lines) console.error(line)
    process.exit(failure.exitCode)
  },
)
