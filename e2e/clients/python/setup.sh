#!/usr/bin/env bash
# Create (or refresh) the virtualenv used by the Python client harnesses.
#
#   e2e/clients/python/setup.sh            # venv at $REPO/.cache/venv
#   VENV=/some/dir e2e/clients/python/setup.sh
#   PYTHON=python3.11 e2e/clients/python/setup.sh
#
# Idempotent: does nothing when the venv already has exactly the pinned
# requirements (tracked by a stamp file holding the requirements' hash).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
venv="${VENV:-$repo/.cache/venv}"
python="${PYTHON:-python3}"
req="$here/requirements.txt"
stamp="$venv/.strait-requirements.sha256"

pyver() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])'; }
want="$( { pyver "$python"; cat "$req"; } | sha256sum | cut -d' ' -f1)"

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi

# A venv built by another Python minor version cannot be reused.
if [[ -x "$venv/bin/python" && "$(pyver "$venv/bin/python" 2>/dev/null || true)" != "$(pyver "$python")" ]]; then
  rm -rf "$venv"
fi
if [[ ! -x "$venv/bin/python" ]]; then
  mkdir -p "$(dirname "$venv")"
  "$python" -m venv "$venv"
fi

"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$req"
# Fail early if a client or codec library cannot be imported.
"$venv/bin/python" - <<'PY'
import confluent_kafka, kafka
from kafka import codec
missing = [n for n, ok in (("snappy", codec.has_snappy()), ("lz4", codec.has_lz4()), ("zstd", codec.has_zstd())) if not ok]
if missing:
    raise SystemExit("kafka-python codec libraries missing: " + ", ".join(missing))
PY
echo "$want" > "$stamp"
