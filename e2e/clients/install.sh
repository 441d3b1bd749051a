#!/usr/bin/env bash
# Install everything the e2e client harnesses under e2e/clients/ need, on a
# Debian (bookworm or later) machine:
#
#   * apt: kcat, jq, coreutils (timeout), gawk/mawk; python3 + python3-venv and
#     nodejs + npm only when no usable python3 / node is already on PATH
#   * node:   npm ci in e2e/clients/node (kafkajs, pinned by package-lock.json)
#   * python: e2e/clients/python/setup.sh -> $REPO/.cache/venv
#
# Idempotent and quiet: each step is skipped when its result is already in
# place; output appears only on failure (or with VERBOSE=1).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
verbose="${VERBOSE:-}"

say() { [[ -z "$verbose" ]] || echo "[install] $*" >&2; }

# Run a command quietly; show its output only when it fails.
quiet() {
  if [[ -n "$verbose" ]]; then
    "$@"
    return
  fi
  local log
  log="$(mktemp)"
  if ! "$@" >"$log" 2>&1; then
    echo "[install] failed: $*" >&2
    cat "$log" >&2
    rm -f "$log"
    return 1
  fi
  rm -f "$log"
}

as_root() {
  if [[ "$(id -u)" == 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n "$@"
  else
    echo "[install] need root for: $*" >&2
    return 1
  fi
}

# --- apt packages -----------------------------------------------------------
missing=()
command -v kcat >/dev/null 2>&1 || missing+=(kcat)
command -v jq >/dev/null 2>&1 || missing+=(jq)
command -v timeout >/dev/null 2>&1 || missing+=(coreutils)
command -v awk >/dev/null 2>&1 || missing+=(mawk)
if ! command -v python3 >/dev/null 2>&1; then
  missing+=(python3 python3-venv)
elif ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  # Debian splits venv/ensurepip out of the interpreter package.
  missing+=(python3-venv)
fi
if ! command -v node >/dev/null 2>&1; then
  missing+=(nodejs npm)
elif ! command -v npm >/dev/null 2>&1; then
  missing+=(npm)
fi

if ((${#missing[@]})); then
  say "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  quiet as_root apt-get update -qq
  quiet as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# --- kafkajs ------------------------------------------------------------------
node_dir="$here/node"
stamp="$node_dir/node_modules/.strait-lock.sha256"
want="$(sha256sum "$node_dir/package-lock.json" | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -d "$node_dir/node_modules/kafkajs" ]]; then
  say "node_modules up to date"
else
  say "npm ci in $node_dir"
  (cd "$node_dir" && quiet npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" >"$stamp"
fi

# --- Python venv (kafka-python, confluent-kafka, codec libs) ------------------
say "python venv"
quiet "$here/python/setup.sh"

say "done"
