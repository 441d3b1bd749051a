#!/usr/bin/env bash
# kcat (librdkafka) client harness for Strait end-to-end tests.
#
#   harness.sh produce --bootstrap HOSTS --topic T --count N --prefix P
#                      [--compression none|gzip|snappy|lz4|zstd] [--idempotent] [--keys K]
#                      [--property KEY=VALUE]...
#   harness.sh consume --bootstrap HOSTS --topic T --group G --count N [--timeout-ms MS]
#                      [--property KEY=VALUE]...
#
# --property KEY=VALUE (repeatable) is passed to kcat as -X KEY=VALUE after the
# harness's own -X settings, so it can override them. KEY is a librdkafka
# property name (security.protocol, sasl.mechanism, sasl.username, ...).
#
# Authentication failures: librdkafka logs them (SASL authentication error,
# SSL handshake failed, ...) and keeps retrying. The harness watches kcat's
# stderr, stops kcat (SIGTERM, SIGKILL 10 s later) at the first such line and
# exits 1 with "error: authentication failed: MESSAGE" on stderr.
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
                     [--property KEY=VALUE]...
  harness.sh consume --bootstrap HOSTS --topic T --group G --count N [--timeout-ms MS]
                     [--property KEY=VALUE]...
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
props=() # -X KEY=VALUE arguments from --property

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
    *:--bootstrap|*:--topic|*:--count|*:--property|produce:--prefix|produce:--compression|produce:--keys|consume:--group|consume:--timeout-ms)
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
        --property)
          [[ "$value" =~ ^[^=[:space:]][^=]*= ]] || usage_error "--property wants KEY=VALUE, got '$value'"
          props+=(-X "$value")
          ;;
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
# Authentication failures. librdkafka reports them as level-3 log lines
# ("SASL authentication error: <broker message>", "SSL handshake failed: ...")
# and through kcat's error callback ("% ERROR: Local: Authentication
# failure: ..."), then reconnects and tries again for as long as kcat runs.
# Under TLS 1.3 the client's side of the handshake is over before the server
# checks the client certificate, so a refused or missing certificate shows up
# as an alert on the first read ("Receive failed: ... tlsv13 alert
# certificate required").
AUTH_FAILURE_RE='SASL authentication error|Authentication failed|Local: Authentication failure|mechanism handshake failed|SSL handshake failed|alert certificate required|alert bad certificate|alert unknown ca'
errpipe="$tmpdir/kcat-stderr" # kcat's stderr, read by watch_auth
kcat_pid="$tmpdir/kcat.pid"   # pid of the `timeout` process wrapping kcat
auth_failure="$tmpdir/auth-failure"

# mawk reads its input in blocks unless it is told to be interactive.
awk_stream=(awk)
if awk -W version 2>/dev/null | grep -q mawk; then awk_stream+=(-W interactive); fi

# watch_auth: copies stdin (kcat's stderr) to stdout. At the first non-debug
# line that reports an authentication failure it saves the line in
# $auth_failure and sends SIGTERM to the pid in $kcat_pid: a `timeout`, which
# passes the signal on to kcat and sends SIGKILL if kcat is still alive after
# timeout's -k period.
watch_auth() {
  "${awk_stream[@]}" -v pidfile="$kcat_pid" -v flag="$auth_failure" -v re="$AUTH_FAILURE_RE" '
    { print; fflush() }
    !hit && !/^%7\|/ && $0 ~ re {
      hit = 1
      print > flag
      close(flag)
      pid = ""
      for (try = 0; try < 50 && pid !~ /^[0-9]+$/; try++) {
        if ((getline pid < pidfile) <= 0) pid = ""
        close(pidfile)
        if (pid !~ /^[0-9]+$/) system("sleep 0.1")
      }
      if (pid ~ /^[0-9]+$/) system("kill -TERM " pid " 2>/dev/null")
    }'
}

# auth_failed: true when watch_auth saw an authentication failure; then
# prints the error line of the harness (librdkafka's log prefix removed).
auth_failed() {
  [[ -s "$auth_failure" ]] || return 1
  local msg
  msg=$(head -n1 "$auth_failure" | sed -e 's/^%[0-9]|[^|]*|[^|]*|[^|]*| *\[thrd:[^]]*\]: *//' -e 's/^% ERROR: //')
  echo "error: authentication failed: $msg" >&2
}

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

  args+=("${props[@]}")
  local input="$tmpdir/records" report="$tmpdir/stderr"
  # Generate "key-(i mod K)<TAB>P-i" lines with awk: fast for large N.
  awk -v n="$count" -v k="$keys" -v p="$prefix" \
    'BEGIN { for (i = 0; i < n; i++) printf "key-%d\t%s-%d\n", i % k, p, i }' >"$input" || return 1

  # kcat runs in the background with its stderr going through watch_auth into
  # $report. `timeout` with duration 0 never expires; it only turns the
  # watcher's SIGTERM into a SIGKILL after 10 s if kcat hangs.
  mkfifo "$errpipe" || return 1
  timeout -k 10 -s TERM 0 "$KCAT" "${args[@]}" -l "$input" 2>"$errpipe" &
  local kpid=$!
  echo "$kpid" >"$kcat_pid"
  watch_auth <"$errpipe" >"$report"
  wait "$kpid"
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
  if auth_failed; then
    echo "error: kcat stopped after $delivered of $count records acked" >&2
    return 1
  fi
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
  #
  # kcat's stderr goes through watch_auth (in the background) to our stderr;
  # the group below runs kcat in the background only to learn the pid of
  # its `timeout`, and returns timeout's exit status.
  mkfifo "$errpipe" || return 1
  watch_auth <"$errpipe" >&2 &
  local wpid=$!
  {
    timeout -k 20 -s TERM "$secs" \
      "$KCAT" -b "$bootstrap" -G "$group" -c "$count" -J -u -E ${debug_contexts:+-d "$debug_contexts"} \
      -X auto.offset.reset=earliest \
      -X session.timeout.ms=30000 \
      -X heartbeat.interval.ms=3000 \
      "${props[@]}" \
      "$topic" 2>"$errpipe" &
    echo $! >"$kcat_pid"
    wait $!
  } |
    jq -c --unbuffered 'select(type == "object" and has("offset") and has("partition"))
                        | {p: .partition, o: .offset, k: .key, v: .payload}' |
    tee "$out"
  local st=("${PIPESTATUS[@]}")
  wait "$wpid"
  local got
  got=$(wc -l <"$out")
  if auth_failed; then
    echo "error: kcat stopped after $got of $count records" >&2
    return 1
  fi
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
