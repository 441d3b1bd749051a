#!/usr/bin/env node
'use strict'

// kafkajs client harness for Strait end-to-end tests.
//
// Contract (shared by every harness under e2e/clients/):
//   produce --bootstrap HOSTS --topic T --count N --prefix P
//           [--compression none|gzip|snappy|lz4|zstd] [--idempotent] [--keys K]
//           [--property KEY=VALUE]...
//   consume --bootstrap HOSTS --topic T --group G --count N [--timeout-ms MS]
//           [--property KEY=VALUE]...
//
// kafkajs has no configuration properties. --property (repeatable) accepts
// only these keys and maps them onto kafkajs client options (see
// clientSecurity); any other key is a usage error (exit 2):
//   security.protocol  PLAINTEXT | SSL | SASL_PLAINTEXT | SASL_SSL
//   sasl.mechanism     PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512
//   sasl.username, sasl.password
//   ssl.ca.location    PEM file of the CA(s) to trust -> ssl: { ca: [PEM] }
//
// An authentication failure (KafkaJSSASLAuthenticationError, which kafkajs
// does not retry, or a TLS handshake error) ends the run with exit 1 and
// "error: authentication failed: MESSAGE" on stderr.
//
// stdout carries only the contract output ("acked N" / one JSON object per
// record); everything else, including kafkajs logs, goes to stderr.

const fs = require('fs')
const net = require('net')
const tls = require('tls')
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
                     [--property KEY=VALUE]...
  harness.js consume --bootstrap HOSTS --topic T --group G --count N [--timeout-ms MS]
                     [--property KEY=VALUE]...
properties: security.protocol, sasl.mechanism, sasl.username, sasl.password, ssl.ca.location
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
    lists: ['property'],
    required: ['bootstrap', 'topic', 'count', 'prefix'],
  },
  consume: {
    values: ['bootstrap', 'topic', 'group', 'count', 'timeout-ms'],
    bools: [],
    lists: ['property'],
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
  for (const name of spec.lists) opts[name] = []
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
    } else if (spec.values.includes(name) || spec.lists.includes(name)) {
      if (value === undefined) {
        if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value`)
        value = argv[++i]
      }
      if (spec.lists.includes(name)) opts[name].push(value)
      else opts[name] = value
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
// --property: security settings

const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL']
const SASL_MECHANISMS = { PLAIN: 'plain', 'SCRAM-SHA-256': 'scram-sha-256', 'SCRAM-SHA-512': 'scram-sha-512' }
const PROPERTY_KEYS = ['security.protocol', 'sasl.mechanism', 'sasl.username', 'sasl.password', 'ssl.ca.location']

// Turns the --property KEY=VALUE list into the kafkajs client options `ssl`
// and `sasl` (both absent for PLAINTEXT). Settings that the chosen
// security.protocol does not use are ignored with a warning, as the Java
// client and librdkafka ignore them.
function clientSecurity(properties) {
  const props = {}
  for (const kv of properties) {
    const eq = kv.indexOf('=')
    const key = eq > 0 ? kv.slice(0, eq).trim() : ''
    if (key === '') throw new UsageError(`--property wants KEY=VALUE, got ${JSON.stringify(kv)}`)
    if (!PROPERTY_KEYS.includes(key)) {
      throw new UsageError(
        `--property ${key}: not supported by the kafkajs harness (supported: ${PROPERTY_KEYS.join(', ')})`
      )
    }
    props[key] = kv.slice(eq + 1)
  }

  const protocol = (props['security.protocol'] || 'PLAINTEXT').toUpperCase()
  if (!SECURITY_PROTOCOLS.includes(protocol)) {
    throw new UsageError(
      `--property security.protocol: unknown value ${JSON.stringify(props['security.protocol'])} (want ${SECURITY_PROTOCOLS.join('|')})`
    )
  }
  const useSsl = protocol === 'SSL' || protocol === 'SASL_SSL'
  const useSasl = protocol.startsWith('SASL_')
  const out = {}

  if (useSsl) {
    out.ssl = true // Node's default trust store
    if (props['ssl.ca.location'] !== undefined) {
      let ca
      try {
        ca = fs.readFileSync(props['ssl.ca.location'], 'utf8')
      } catch (e) {
        throw new UsageError(`--property ssl.ca.location: cannot read ${props['ssl.ca.location']}: ${e.message}`)
      }
      out.ssl = { ca: [ca] }
    }
  } else if (props['ssl.ca.location'] !== undefined) {
    log(`warning: ssl.ca.location is ignored with security.protocol=${protocol}`)
  }

  const saslKeys = ['sasl.mechanism', 'sasl.username', 'sasl.password']
  if (useSasl) {
    const mechName = (props['sasl.mechanism'] || '').toUpperCase()
    if (!(mechName in SASL_MECHANISMS)) {
      throw new UsageError(
        props['sasl.mechanism'] === undefined
          ? `--property security.protocol=${protocol} needs --property sasl.mechanism=${Object.keys(SASL_MECHANISMS).join('|')}`
          : `--property sasl.mechanism: unsupported value ${JSON.stringify(props['sasl.mechanism'])} (want ${Object.keys(SASL_MECHANISMS).join('|')})`
      )
    }
    for (const k of ['sasl.username', 'sasl.password']) {
      if (props[k] === undefined) throw new UsageError(`--property security.protocol=${protocol} needs --property ${k}`)
    }
    out.sasl = {
      mechanism: SASL_MECHANISMS[mechName],
      username: props['sasl.username'],
      password: props['sasl.password'],
    }
  } else {
    const unused = saslKeys.filter(k => props[k] !== undefined)
    if (unused.length) log(`warning: ${unused.join(', ')} ignored with security.protocol=${protocol}`)
  }
  return out
}

// Error codes of Node's TLS layer that mean the handshake failed for
// reasons of trust or credentials (untrusted/invalid certificate, a client
// certificate the server wants, ...).
const TLS_AUTH_CODES = /^(ERR_TLS_CERT|ERR_SSL_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_(GET|VERIFY)_|CERT_)/

const SASL_ERROR_TYPES = ['SASL_AUTHENTICATION_FAILED', 'UNSUPPORTED_SASL_MECHANISM', 'ILLEGAL_SASL_STATE']

// The message of an authentication failure, or null for any other error.
// kafkajs does not retry KafkaJSSASLAuthenticationError, so it reaches the
// caller at once. A TLS failure arrives as a retriable KafkaJSConnectionError
// whose code is that of the socket error (see also tlsFailure below).
function authFailure(e) {
  for (let c = e, depth = 0; c && depth < 5; c = c.cause || c.originalError, depth++) {
    if (c.name === 'KafkaJSSASLAuthenticationError') return `${c.name}: ${c.message}`
    // SaslHandshake/SaslAuthenticate error codes (e.g. a mechanism the
    // listener does not enable) arrive as KafkaJSProtocolError.
    if (SASL_ERROR_TYPES.includes(c.type)) return `${c.name}: ${c.message} (${c.type})`
    if (typeof c.code === 'string' && TLS_AUTH_CODES.test(c.code)) return `${c.name || 'Error'}: ${String(c.message).trim()} (${c.code})`
  }
  return null
}

// kafkajs retries connection errors, a failed TLS handshake included, for
// its whole retry budget (tens of seconds). The socket factory below (the
// same as kafkajs' default) also watches TLS sockets for such errors and
// settles tlsFailure, which main() races against the command.
let reportTlsFailure
const tlsFailure = new Promise(resolve => {
  reportTlsFailure = resolve
})

function socketFactory({ host, port, ssl, onConnect }) {
  const socket = ssl
    ? tls.connect(Object.assign({ host, port }, net.isIP(host) ? {} : { servername: host }, ssl), onConnect)
    : net.connect({ host, port }, onConnect)
  socket.setKeepAlive(true, 60000)
  if (ssl) {
    socket.on('error', e => {
      if (typeof e.code === 'string' && TLS_AUTH_CODES.test(e.code)) {
        reportTlsFailure(`TLS handshake with ${host}:${port} failed: ${String(e.message).trim()} (${e.code})`)
      }
    })
  }
  return socket
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

function makeKafka(opts, clientId) {
  const level = process.env.HARNESS_DEBUG ? logLevel.DEBUG : logLevel.WARN
  return new Kafka({
    clientId,
    brokers: brokersOf(opts.bootstrap),
    ...clientSecurity(opts.property),
    socketFactory,
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

  const kafka = makeKafka(opts, 'strait-e2e-kafkajs-producer')
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

  const kafka = makeKafka(opts, 'strait-e2e-kafkajs-consumer')
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
    const work = parsed.cmd === 'produce' ? produce(parsed.opts) : consume(parsed.opts)
    const tls = tlsFailure.then(msg => ({ msg }))
    const first = await Promise.race([work.then(code => ({ code })), tls])
    if (first.msg !== undefined) {
      // Nothing to clean up: no connection got through the handshake.
      process.stderr.write(`error: authentication failed: ${first.msg}\n`)
      return EXIT_FAIL
    }
    return first.code
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`error: ${e.message}\n${e.skipUsage ? '' : USAGE}`)
      return EXIT_USAGE
    }
    const auth = authFailure(e)
    if (auth !== null) {
      process.stderr.write(`error: authentication failed: ${auth}\n`)
      return EXIT_FAIL
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
