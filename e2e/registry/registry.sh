#!/usr/bin/env bash
# Runs a real Confluent-compatible schema registry for Strait's e2e tests:
# Apicurio Registry 3.0 (later lines need Java 21), the runnable jar and its
# lib/ from Maven Central, with in-memory storage. Its Confluent API is
# served under /apis/ccompat/v7.
#
#   registry.sh install          download and unpack into .cache/apicurio
#   registry.sh start PORT       start on 127.0.0.1:PORT, wait until ready,
#                                print the Confluent-compatible base URL
#   registry.sh stop PORT        stop the registry started on PORT
#
# Environment: JAVA (java binary), STRAIT_MVN_OPTS (extra mvn arguments),
# REGISTRY_READY_TIMEOUT (seconds, default 120).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/../.." && pwd -P)
VERSION=3.0.9
CACHE="$REPO/.cache/apicurio"
HOME_DIR="$CACHE/apicurio-registry-app-$VERSION"
JAVA=${JAVA:-${JAVA_HOME:+$JAVA_HOME/bin/}java}
READY_TIMEOUT=${REGISTRY_READY_TIMEOUT:-120}

log() { printf 'registry.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

install() {
  if [[ -n "$(runner)" ]]; then
    return
  fi
  command -v mvn >/dev/null || die "mvn not found (needed once to download Apicurio Registry)"
  mkdir -p "$CACHE"
  log "downloading Apicurio Registry $VERSION from Maven Central"
  if ! mvn -B -q -ntp -Dstyle.color=never ${STRAIT_MVN_OPTS:-} dependency:copy \
      -Dartifact="io.apicurio:apicurio-registry-app:$VERSION:tar.gz:all" \
      -DoutputDirectory="$CACHE" >"$CACHE/mvn.log" 2>&1; then
    cat "$CACHE/mvn.log" >&2
    die "mvn could not download io.apicurio:apicurio-registry-app:$VERSION:tar.gz:all"
  fi
  rm -rf "$HOME_DIR.tmp" && mkdir -p "$HOME_DIR.tmp"
  tar -xzf "$CACHE/apicurio-registry-app-$VERSION-all.tar.gz" -C "$HOME_DIR.tmp"
  # The archive holds a runnable jar beside its lib/, possibly under one
  # directory.
  local jar
  jar=$(find "$HOME_DIR.tmp" \( -name quarkus-run.jar -o -name '*-runner.jar' \) -print -quit)
  [[ -n "$jar" ]] || die "no runnable jar in the Apicurio archive"
  rm -rf "$HOME_DIR" && mv "$(dirname "$jar")" "$HOME_DIR" && rm -rf "$HOME_DIR.tmp"
  rm -f "$CACHE/apicurio-registry-app-$VERSION-all.tar.gz"
}

# runner prints the installed runnable jar, nothing when not installed.
runner() {
  [[ -d "$HOME_DIR" ]] && find "$HOME_DIR" -maxdepth 1 \( -name quarkus-run.jar -o -name '*-runner.jar' \) -print -quit
}

start() {
  local port=$1 run="$CACHE/run/$1"
  install
  stop "$port" 2>/dev/null || true
  mkdir -p "$run"
  (cd "$run" && exec "$JAVA" -Xms64m -Xmx384m -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$port" \
    -Dquarkus.log.level=WARN -jar "$(runner)" >"$run/registry.log" 2>&1) &
  echo $! >"$run/pid"
  local url="http://127.0.0.1:$port/apis/ccompat/v7" deadline=$((SECONDS + READY_TIMEOUT))
  until curl -fsS -o /dev/null "$url/subjects" 2>/dev/null; do
    if ! kill -0 "$(cat "$run/pid")" 2>/dev/null; then
      tail -n 30 "$run/registry.log" >&2
      die "the registry exited while starting"
    fi
    ((SECONDS < deadline)) || { tail -n 30 "$run/registry.log" >&2; die "not ready after ${READY_TIMEOUT}s"; }
    sleep 0.5
  done
  echo "$url"
}

stop() {
  local run="$CACHE/run/$1"
  [[ -f "$run/pid" ]] || return 0
  kill "$(cat "$run/pid")" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$(cat "$run/pid")" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$(cat "$run/pid")" 2>/dev/null || true
  rm -rf "$run"
}

case "${1:-}" in
  install) install ;;
  start) [[ $# -eq 2 ]] || die "usage: registry.sh start PORT"; start "$2" ;;
  stop) [[ $# -eq 2 ]] || die "usage: registry.sh stop PORT"; stop "$2" ;;
  *) sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
