#!/usr/bin/env bash
# kcat (librdkafka) client harness for Strait end-to-end tests.
#
#   harness.sh produce --bootstrap HOSTS --topic T --count N --prefix P
#                      [--compression none|gzip|snappy|lz4|zstd] [--idempotent] [--keys K]
#   harness.sh consume --bootstrap HOSTS --topic T --group G --count N [--timeout-ms MS]
#
# Requires kcat (Debian package, librdkafka 2.0.2) and jq. stdout carries only
# the contract output; kcat's diagnostics go to stderr.
#
# Exit status: 0 success, 1 error/timeout, 2 usage error or missing tool,
# 3 (produce only) records were acked but librdkafka did NOT apply the
# requested codec (see "codec fallback" below).
#
# Codec fallback: librdkafka decides from the broker's ApiVersions ranges
# whether a codec is usable. It treats gzip/snappy/lz4 as unsupported unless
# the broker advertises Produce v0 (upstream librdkafka issue 4956), and then
# sends those batches UNCOMPRESSED without any error. Apache Kafka 4.x keeps
# advertising Produce v0-v2 for exactly this reason (KAFKA-18659) although it
# rejects them, but a broker or gateway whose ApiVersions starts Produce at v3
# triggers the fallback. The harness turns on librdkafka's "msg" debug
# context, spots the fallback and fails with exit 3, so a test never believes
# it exercised a codec that was not on the wire.
#
# Environment:
#   KCAT=path                  kcat binary (default: kcat on PATH)
#   HARNESS_DEBUG=1            pass -d broker,protocol,msg,cgrp to kcat
#                              (HARNESS_DEBUG_CONTEXTS overrides the list)
#   KCAT_ALLOW_UNCOMPRESSED=1  report the codec fallback as a warning and
#                              exit 0 instead of 3
set -uo pipefail

KCAT="${KCAT:-kcat}"
prog="kcat-harness"

usage() {
  cat >&2 <<'EOF'
usage:
  harness.sh produce --bootstrap HOSTS --topic T --count N --prefix P
                     [--compression none|gzip|snappy|lz4|zstd] [--idempotent] [--keys K]
  harness.sh consume --bootstrap HOSTS --topic T --group G --count N [--timeout-ms MS]
EOF
}
usage_error() { echo "error: $*" >&2; usage; exit 2; }
log() { echo "[$prog] $*" >&2; }

is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }

cmd="${1:-}"
case "$cmd" in
  produce|consume) shift ;;
  -h|--help|"") usage; exit 2 ;;
  *) usage_error "unknown command '$cmd'" ;;
esac

bootstrap="" topic="" count="" prefix="" group=""
compression="none" idempotent=0 keys=8 timeout_ms=60000

while (($#)); do
  arg="$1"; shift
  name="$arg" value="" has_value=0
  if [[ "$arg" == --*=* ]]; then
    name="${arg%%=*}" value="${arg#*=}" has_value=1
  fi
  take() {
    if ((has_value == 0)); then
      (($# > 0)) || usage_error "$name needs a value"
      value="$1"; return 1 # tell the caller to shift
    fi
    return 0
  }
  case "$cmd:$name" in
    *:--bootstrap|*:--topic|*:--count|produce:--prefix|produce:--compression|produce:--keys|consume:--group|consume:--timeout-ms)
      if ! take "$@"; then shift; fi
      case "$name" in
        --bootstrap) bootstrap="$value" ;;
        --topic) topic="$value" ;;
        --count) count="$value" ;;
        --prefix) prefix="$value" ;;
        --compression) compression="$value" ;;
        --keys) keys="$value" ;;
        --group) group="$value" ;;
        --timeout-ms) timeout_ms="$value" ;;
      esac
      ;;
    produce:--idempotent)
      ((has_value == 0)) || usage_error "--idempotent takes no value"
      idempotent=1
      ;;
    *) usage_error "unknown argument '$arg' for $cmd" ;;
  esac
done

[[ -n "$bootstrap" ]] || usage_error "--bootstrap is required"
[[ -n "$topic" ]] || usage_error "--topic is required"
[[ -n "$count" ]] || usage_error "--count is required"
is_uint "$count" || usage_error "--count must be a non-negative integer"

command -v "$KCAT" >/dev/null 2>&1 || { echo "error: kcat not found (apt-get install kcat)" >&2; exit 2; }

debug_contexts=""
if [[ -n "${HARNESS_DEBUG:-}" ]]; then
  debug_contexts="${HARNESS_DEBUG_CONTEXTS:-broker,protocol,msg,cgrp}"
fi

tmpdir="$(mktemp -d "${TMPDIR:-/tmp}/kcat-harness.XXXXXX")" || exit 1
trap 'rm -rf "$tmpdir"' EXIT

# ---------------------------------------------------------------------------
do_produce() {
  [[ -n "$prefix" ]] || usage_error "--prefix is required"
  if ! { is_uint "$keys" && ((keys > 0)); }; then usage_error "--keys must be a positive integer"; fi
  case "$compression" in
    none|gzip|snappy|lz4|zstd) ;;
    *) usage_error "unknown --compression '$compression' (want none|gzip|snappy|lz4|zstd)" ;;
  esac
  # Records are newline-delimited with a tab between key and value.
  if [[ "$prefix" == *$'\n'* || "$prefix" == *$'\t'* ]]; then
    usage_error "--prefix must not contain newline or tab characters"
  fi

  local args=(-P -b "$bootstrap" -t "$topic" -K '\t'
    -X acks=all
    -X compression.codec="$compression"
    -X message.timeout.ms=120000
    -X request.timeout.ms=30000
    -X linger.ms=5
    -m 30
    -v -v) # verbosity 3: one "Message delivered" line per acked record
  # The "msg" debug context logs one line per produced batch, including
  # librdkafka's notice when it silently drops the requested codec.
  local contexts="$debug_contexts"
  if [[ "$compression" != none && ",$contexts," != *,msg,* && ",$contexts," != *,all,* ]]; then
    contexts="${contexts:+$contexts,}msg"
  fi
  [[ -z "$contexts" ]] || args+=(-d "$contexts")
  if ((idempotent)); then
    args+=(-X enable.idempotence=true)
  else
    # Keep a retried batch from overtaking a later one (per-key order).
    args+=(-X max.in.flight.requests.per.connection=1)
  fi
  ((count > 0)) || { echo "acked 0"; return 0; }

  local input="$tmpdir/records" report="$tmpdir/stderr"
  # Generate "key-(i mod K)<TAB>P-i" lines with awk: fast for large N.
  awk -v n="$count" -v k="$keys" -v p="$prefix" \
    'BEGIN { for (i = 0; i < n; i++) printf "key-%d\t%s-%d\n", i % k, p, i }' >"$input" || return 1

  "$KCAT" "${args[@]}" -l "$input" 2>"$report"
  local rc=$?
  # Pass kcat's diagnostics through, minus the per-record delivery lines and
  # (unless debugging was asked for) the debug lines added above.
  local filter=(-e '^% Message delivered to partition'
    -e '^% Enable message offset reporting'
    -e '^% Setting producer input buffer')
  [[ -n "$debug_contexts" ]] || filter+=(-e '^%7|')
  grep -v "${filter[@]}" "$report" >&2
  local delivered failed fallback
  delivered=$(grep -c '^% Message delivered to partition' "$report")
  failed=$(grep -c '^% Delivery failed' "$report")
  fallback=$(grep -c 'Broker does not support compression type' "$report")
  if ((rc != 0)); then
    echo "error: kcat exited with status $rc ($delivered of $count records acked, $failed delivery failures)" >&2
    return 1
  fi
  if ((failed > 0 || delivered != count)); then
    echo "error: $delivered of $count records acked ($failed delivery failures)" >&2
    return 1
  fi
  if ((fallback > 0)); then
    local msg
    msg="librdkafka $(librdkafka_version) sent $fallback batch(es) UNCOMPRESSED although --compression $compression was requested: it judged the codec unsupported from the broker's ApiVersions (librdkafka needs the broker to advertise Produce v0 for gzip/snappy/lz4; see librdkafka issue 4956 / KAFKA-18659)"
    if [[ -n "${KCAT_ALLOW_UNCOMPRESSED:-}" ]]; then
      log "warning: $msg"
    else
      echo "error: $msg; all $delivered records were acked. Set KCAT_ALLOW_UNCOMPRESSED=1 to accept this." >&2
      return 3
    fi
  fi
  echo "acked $delivered"
}

librdkafka_version() {
  "$KCAT" -V 2>&1 | sed -n 's/.*librdkafka \([0-9][0-9.]*\).*/\1/p' | head -n1
}

# ---------------------------------------------------------------------------
do_consume() {
  [[ -n "$group" ]] || usage_error "--group is required"
  if ! { is_uint "$timeout_ms" && ((timeout_ms > 0)); }; then usage_error "--timeout-ms must be a positive integer"; fi
  command -v jq >/dev/null 2>&1 || { echo "error: jq not found (apt-get install jq)" >&2; exit 2; }

  if ((count == 0)); then return 0; fi

  local secs
  secs=$(printf '%d.%03d' $((timeout_ms / 1000)) $((timeout_ms % 1000)))
  local out="$tmpdir/records"

  # Balanced consumer (-G; librdkafka 2.0.2 only speaks the classic group
  # protocol): earliest reset, no -o so
  # committed offsets are honoured. librdkafka auto-commit stays on and
  # rd_kafka_consumer_close() commits the offsets of exactly the records kcat
  # handed out, both after -c N and after timeout's SIGTERM (kcat closes the
  # consumer gracefully on SIGTERM). -E keeps going on non-fatal errors such as
  # a topic whose metadata has not propagated yet.
  timeout -k 20 -s TERM "$secs" \
    "$KCAT" -b "$bootstrap" -G "$group" -c "$count" -J -u -E ${debug_contexts:+-d "$debug_contexts"} \
    -X auto.offset.reset=earliest \
    -X session.timeout.ms=30000 \
    -X heartbeat.interval.ms=3000 \
    "$topic" |
    jq -c --unbuffered 'select(type == "object" and has("offset") and has("partition"))
                        | {p: .partition, o: .offset, k: .key, v: .payload}' |
    tee "$out"
  local st=("${PIPESTATUS[@]}")
  local got
  got=$(wc -l <"$out")
  if ((st[1] != 0)); then
    echo "error: jq failed with status ${st[1]}" >&2
    return 1
  fi
  case "${st[0]}" in
    0) ;;
    124) log "timeout after ${timeout_ms}ms: received $got of $count records"; return 1 ;;
    *) echo "error: kcat exited with status ${st[0]} after $got of $count records" >&2; return 1 ;;
  esac
  if ((got < count)); then
    log "kcat stopped after $got of $count records"
    return 1
  fi
}

case "$cmd" in
  produce) do_produce ;;
  consume) do_consume ;;
esac
