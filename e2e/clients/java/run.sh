#!/usr/bin/env bash
# Runs the Java e2e harness (building it first if needed):
#   e2e/clients/java/run.sh produce --bootstrap H --topic T --count N --prefix P [...]
#   e2e/clients/java/run.sh consume --bootstrap H --topic T --group G --count N [...]
# See src/main/java/Harness.java for the full CLI contract.
# JVM options can be overridden with HARNESS_JAVA_OPTS (default: -Xmx256m).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/../../.." && pwd -P)
OUT="$REPO/.cache/java-harness"

"$HERE/build.sh" >&2

if [[ -n "${JAVA:-}" ]]; then
  java_bin=$JAVA
elif [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
  java_bin="$JAVA_HOME/bin/java"
else
  java_bin=java
fi

# shellcheck disable=SC2086
exec "$java_bin" ${HARNESS_JAVA_OPTS:--Xmx256m} -Djava.awt.headless=true \
  -cp "$OUT/harness.jar:$OUT/lib/*" Harness "$@"
