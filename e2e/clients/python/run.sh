#!/usr/bin/env bash
# Run a Python client harness inside the pinned venv (created on first use):
#
#   e2e/clients/python/run.sh kafka-python produce --bootstrap H --topic T --count N --prefix P [...]
#   e2e/clients/python/run.sh confluent    consume --bootstrap H --topic T --group G --count N [...]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
venv="${VENV:-$repo/.cache/venv}"

case "${1:-}" in
  kafka-python) script="$here/kafka_python_harness.py" ;;
  confluent) script="$here/confluent_harness.py" ;;
  *) echo "usage: run.sh kafka-python|confluent produce|consume [flags]" >&2; exit 2 ;;
esac
shift

# setup.sh is a no-op when the venv already matches requirements.txt; keep
# its output off stdout, which belongs to the harness contract.
VENV="$venv" "$here/setup.sh" >&2
exec "$venv/bin/python" "$script" "$@"
