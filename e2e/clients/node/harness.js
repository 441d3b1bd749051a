#!/usr/bin/env node
'use strict'

// kafkajs client harness for Strait end-to-end tests.
//
// Contract (shared by every harness under e2e/clients/):
//   produce --bootstrap HOSTS --topic T --count N --prefix P
//           [--compression none|gzip|snappy|lz4|zstd] [--idempotent] [--keys K]
//   consume --bootstrap HOSTS --topic T --group G --count N [--timeout-ms MS]
//
// stdout carries only the contract output ("acked N" / one JSON object per
// record); everything else, including kafkajs logs, goes to stderr.

const {
  Kafka,
  logLevel,
  CompressionTypes,
  Partitioners,
} = require('kafkajs')

const EXIT_OK = 0
const EXIT_FAIL = 1
const EXIT_USAGE = 2

const USAGE = `usage:
  harness.js produce --bootstrap HOSTS --topic T --count N --prefix P
                     [--compression none|gzip|snappy|lz4|zstd] [--idempotent] [--keys K]
  harness.js consume --bootstrap HOSTS --topic T --group G --count N [--timeout-ms MS]
`

class UsageError extends Error {}

function log(...parts) {
  process.stderr.write(`[kafkajs-harness] ${parts.join(' ')}\n`)
}

// ---------------------------------------------------------------------------
// argument parsing

const FLAGS = {
  produce: {
    values: ['bootstrap', 'topic', 'count', 'prefix', 'compression', 'keys'],
    bools: ['idempotent'],
    required: ['bootstrap', 'topic', 'count', 'prefix'],
  },
  consume: {
    values: ['bootstrap', 'topic', 'group', 'count', 'timeout-ms'],
    bools: [],
    required: ['bootstrap', 'topic', 'group', 'count'],
  },
}

function parseArgs(argv) {
  if (argv.length === 0 || argv[0] === '-h' || argv[0] === '--help') {
    throw new UsageError('missing command')
  }
  const cmd = argv[0]
  const spec = FLAGS[cmd]
  if (!spec) throw new UsageError(`unknown command ${JSON.stringify(cmd)}`)

  const opts = {}
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument ${JSON.stringify(arg)}`)
    let name = arg.slice(2)
    let value
    const eq = name.indexOf('=')
    if (eq >= 0) {
      value = name.slice(eq + 1)
      name = name.slice(0, eq)
    }
    if (spec.bools.includes(name)) {
      if (value !== undefined) throw new UsageError(`--${name} takes no value`)
      opts[name] = true
    } else if (spec.values.includes(name)) {
      if (value === undefined) {
        if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value`)
        value = argv[++i]
      }
      opts[name] = value
    } else {
      throw new UsageError(`unknown flag --${name} for ${cmd}`)
    }
  }
  for (const r of spec.required) {
    if (opts[r] === undefined || opts[r] === '') throw new UsageError(`--${r} is required`)
  }
  return { cmd, opts }
}

function positiveInt(name, raw, { allowZero = false } = {}) {
  if (!/^[0-9]+$/.test(String(raw))) throw new UsageError(`--${name} must be an integer, got ${raw}`)
  const n = Number(raw)
  if (!Number.isSafeInteger(n) || (!allowZero && n <= 0)) {
    throw new UsageError(`--${name} must be ${allowZero ? 'non-negative' : 'positive'}, got ${raw}`)
  }
  return n
}

function brokersOf(bootstrap) {
  const list = bootstrap
    .split(',')
    .map(s => s.trim())
    .filter(Boolean)
  if (list.length === 0) throw new UsageError('--bootstrap is empty')
  return list
}

// ---------------------------------------------------------------------------
// kafkajs setup

function stderrLogCreator() {
  return ({ namespace, label, log: entry }) => {
    const { message, ...rest } = entry
    const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : ''
    process.stderr.write(`[kafkajs ${label}] ${namespace ? namespace + ': ' : ''}${message}${extra}\n`)
  }
}

function makeKafka(bootstrap, clientId) {
  const level = process.env.HARNESS_DEBUG ? logLevel.DEBUG : logLevel.WARN
  return new Kafka({
    clientId,
    brokers: brokersOf(bootstrap),
    logLevel: level,
    logCreator: stderrLogCreator,
    connectionTimeout: 10000,
    requestTimeout: 30000,
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5000 },
  })
}

// ---------------------------------------------------------------------------
// produce

const CODECS = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
}
const KNOWN_CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd']

// Records per producer.send() call. Each call is awaited before the next one
// is issued so per-key ordering holds even without idempotence.
const SEND_CHUNK = 1000

async function produce(opts) {
  const count = positiveInt('count', opts.count, { allowZero: true })
  const keys = positiveInt('keys', opts.keys === undefined ? '8' : opts.keys)
  const codecName = opts.compression === undefined ? 'none' : opts.compression
  if (!KNOWN_CODECS.includes(codecName)) {
    throw new UsageError(`unknown --compression ${codecName} (want one of ${KNOWN_CODECS.join('|')})`)
  }
  if (!(codecName in CODECS)) {
    const err = new UsageError(
      `compression ${codecName} is not supported by the kafkajs harness (kafkajs only ships none and gzip codecs)`
    )
    err.skipUsage = true
    throw err
  }
  const idempotent = Boolean(opts.idempotent)

  const kafka = makeKafka(opts.bootstrap, 'strait-e2e-kafkajs-producer')
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent,
    // kafkajs requires at most one in-flight request for idempotent producers
    // to guarantee ordering; keep the same setting without idempotence.
    maxInFlightRequests: 1,
  })

  await producer.connect()
  let acked = 0
  try {
    for (let start = 0; start < count; start += SEND_CHUNK) {
      const end = Math.min(count, start + SEND_CHUNK)
      const messages = []
      for (let i = start; i < end; i++) {
        messages.push({ key: `key-${i % keys}`, value: `${opts.prefix}-${i}` })
      }
      // acks: -1 == all in-sync replicas must acknowledge.
      await producer.send({
        topic: opts.topic,
        acks: -1,
        compression: CODECS[codecName],
        messages,
      })
      acked += messages.length
    }
  } finally {
    await producer.disconnect().catch(e => log(`producer disconnect failed: ${e.message}`))
  }
  if (acked !== count) throw new Error(`acked ${acked} of ${count} records`)
  process.stdout.write(`acked ${acked}\n`)
  return EXIT_OK
}

// ---------------------------------------------------------------------------
// consume

async function consume(opts) {
  const count = positiveInt('count', opts.count, { allowZero: true })
  const timeoutMs = positiveInt('timeout-ms', opts['timeout-ms'] === undefined ? '60000' : opts['timeout-ms'])

  const kafka = makeKafka(opts.bootstrap, 'strait-e2e-kafkajs-consumer')
  const consumer = kafka.consumer({
    groupId: opts.group,
    sessionTimeout: 30000,
    rebalanceTimeout: 30000,
    heartbeatInterval: 3000,
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5000 },
  })

  let received = 0
  let done = false
  // Next offset to commit per partition (last delivered offset + 1).
  const nextOffsets = new Map()
  let finish
  const finished = new Promise(resolve => {
    finish = resolve
  })
  let crashError = null
  consumer.on(consumer.events.CRASH, ev => {
    if (!ev.payload.restart) {
      crashError = ev.payload.error
      finish('crash')
    }
  })

  await consumer.connect()
  const timer = setTimeout(() => finish('timeout'), timeoutMs)
  try {
    await consumer.subscribe({ topics: [opts.topic], fromBeginning: true })
    if (count === 0) finish('done')
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        if (done) return
        const rec = {
          p: partition,
          o: Number(message.offset),
          k: message.key === null ? null : message.key.toString('utf8'),
          v: message.value === null ? null : message.value.toString('utf8'),
        }
        process.stdout.write(JSON.stringify(rec) + '\n')
        nextOffsets.set(partition, (BigInt(message.offset) + 1n).toString())
        received++
        if (received >= count) {
          done = true
          consumer.pause([{ topic }])
          finish('done')
        }
      },
    })

    const outcome = await finished
    clearTimeout(timer)
    done = true
    if (outcome === 'crash') throw crashError || new Error('consumer crashed')

    if (nextOffsets.size > 0) {
      const offsets = [...nextOffsets].map(([partition, offset]) => ({
        topic: opts.topic,
        partition,
        offset,
      }))
      await commitWithRetry(consumer, offsets)
    }
    if (outcome === 'timeout') {
      log(`timeout after ${timeoutMs}ms: received ${received} of ${count} records`)
      return EXIT_FAIL
    }
    return EXIT_OK
  } finally {
    clearTimeout(timer)
    await consumer.disconnect().catch(e => log(`consumer disconnect failed: ${e.message}`))
  }
}

async function commitWithRetry(consumer, offsets) {
  let lastErr
  for (let attempt = 1; attempt <= 5; attempt++) {
    try {
      await consumer.commitOffsets(offsets)
      return
    } catch (e) {
      lastErr = e
      log(`offset commit attempt ${attempt} failed: ${e.message}`)
      await new Promise(r => setTimeout(r, 500 * attempt))
    }
  }
  throw lastErr
}

// ---------------------------------------------------------------------------

async function main() {
  let parsed
  try {
    parsed = parseArgs(process.argv.slice(2))
  } catch (e) {
    process.stderr.write(`error: ${e.message}\n${USAGE}`)
    return EXIT_USAGE
  }
  try {
    return parsed.cmd === 'produce' ? await produce(parsed.opts) : await consume(parsed.opts)
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`error: ${e.message}\n${e.skipUsage ? '' : USAGE}`)
      return EXIT_USAGE
    }
    process.stderr.write(`error: ${e && e.stack ? e.stack : e}\n`)
    return EXIT_FAIL
  }
}

main().then(
  code => process.exit(code),
  e => {
    process.stderr.write(`fatal: ${e && e.stack ? e.stack : e}\n`)
    process.exit(EXIT_FAIL)
  }
)
