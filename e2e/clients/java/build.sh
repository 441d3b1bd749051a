#!/usr/bin/env bash
# Builds the Java e2e harness into $REPO/.cache/java-harness/:
#   harness.jar   the Harness class (+ simplelogger.properties)
#   lib/*.jar     runtime dependencies (kafka-clients, slf4j, compression libs)
# Skips the build when pom.xml and src/ are unchanged since the last build
# (checksum in .cache/java-harness/.sha256). --force rebuilds anyway.
# Extra mvn arguments can be passed with STRAIT_MVN_OPTS (e.g. -o).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/../../.." && pwd -P)
OUT="$REPO/.cache/java-harness"

force=false
case "${1:-}" in
  --force) force=true ;;
  "") ;;
  *) echo "usage: build.sh [--force]" >&2; exit 2 ;;
esac

sources_sum() {
  (cd "$HERE" && find pom.xml src -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum | cut -d' ' -f1
}

up_to_date() {
  [[ -f "$OUT/.sha256" && -f "$OUT/harness.jar" && -d "$OUT/lib" ]] &&
    [[ "$(cat "$OUT/.sha256")" == "$1" ]]
}

mkdir -p "$OUT"
sum=$(sources_sum)
if ! $force && up_to_date "$sum"; then
  exit 0
fi

# Serialise concurrent builds (e.g. parallel test packages calling run.sh).
exec 9>"$OUT/.build.lock"
flock 9
if ! $force && up_to_date "$sum"; then
  exit 0
fi

command -v mvn >/dev/null || { echo "build.sh: mvn not found" >&2; exit 1; }
echo "build.sh: building Java harness into ${OUT#"$REPO"/}" >&2
rm -rf "$OUT/lib.tmp" "$OUT/target"
# shellcheck disable=SC2086
mvn -B -q -ntp -Dstyle.color=never ${STRAIT_MVN_OPTS:-} -f "$HERE/pom.xml" \
  -Dharness.build.dir="$OUT/target" -DskipTests \
  package dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$OUT/lib.tmp" \
  >"$OUT/mvn.log" 2>&1 || {
  # Output is only shown on failure (Maven 3.8 -q still prints stray ANSI codes).
  cat "$OUT/mvn.log" >&2
  echo "build.sh: mvn build failed (log: ${OUT#"$REPO"/}/mvn.log)" >&2
  exit 1
}
rm -rf "${OUT:?}/lib"
mv "$OUT/lib.tmp" "$OUT/lib"
cp "$OUT/target/strait-e2e-java-harness.jar" "$OUT/harness.jar.tmp"
mv "$OUT/harness.jar.tmp" "$OUT/harness.jar"
echo "$sum" >"$OUT/.sha256"
