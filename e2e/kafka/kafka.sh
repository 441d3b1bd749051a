#!/usr/bin/env bash
# Runs real Apache Kafka 4.x (KRaft, combined broker+controller nodes) from
# Maven Central jars for Strait's e2e tests. No tarball, no Docker.
#
#   kafka.sh install                      resolve jars into .cache/kafka/libs
#   kafka.sh start NAME NODES BASEPORT    start a fresh cluster, print bootstrap
#   kafka.sh start-secure NAME BASEPORT   start one node with SASL/TLS listeners too
#   kafka.sh stop NAME                    stop a cluster and delete its data
#   kafka.sh stop-node NAME ID            stop one node (data is kept)
#   kafka.sh start-node NAME ID           restart one node, wait for it
#   kafka.sh status NAME                  exit 0 if every node runs; print bootstrap
#   kafka.sh tool MAINCLASS ARGS...       run a Kafka tool class
#   kafka.sh classpath                    print the Kafka classpath
#
# See e2e/kafka/README.md for details. Environment knobs:
#   JAVA                   java binary (default: $JAVA_HOME/bin/java or java)
#   KAFKA_HEAP_OPTS        node heap (default: -Xms256m -Xmx512m)
#   KAFKA_READY_TIMEOUT    seconds to wait for readiness (default: 120)
#   KAFKA_EXTRA_CONFIG     extra server.properties lines appended to every node
#   STRAIT_MVN_OPTS        extra arguments for mvn (e.g. -o, -s settings.xml)
#   KAFKA_SH_VERBOSE=true  print readiness phase timings
#   KAFKA_CDS=false        do not use/create the class-data-sharing archive
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/../.." && pwd -P)
CACHE="$REPO/.cache/kafka"
LIBS="$CACHE/libs"
HELPER="$CACHE/helper"
RUN_ROOT="$CACHE/run"
POM="$HERE/pom.xml"

if [[ -n "${JAVA:-}" ]]; then
  :
elif [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
  JAVA="$JAVA_HOME/bin/java"
else
  JAVA=java
fi
READY_TIMEOUT=${KAFKA_READY_TIMEOUT:-120}
HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}
CDS=${KAFKA_CDS:-true}
# Set by start-secure (never from the environment).
SECURE_CLUSTER=false

log() { printf 'kafka.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
  sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

now_ms() { date +%s%3N; }
vlog() { [[ "${KAFKA_SH_VERBOSE:-false}" != true ]] || log "$(date +%T.%3N) $*"; }

# ------------------------------------------------------------------ install

file_sum() { cat "$@" | sha256sum | cut -d' ' -f1; }

# Resolves the jars (once per pom change) and compiles the readiness helper
# (once per helper/pom change). Serialised with a lock so parallel callers
# (e.g. several test packages starting clusters) do not race.
install() {
  mkdir -p "$CACHE"
  (
    flock 9
    local pom_sum
    pom_sum=$(file_sum "$POM")
    if [[ ! -f "$LIBS/.pom.sha256" || "$(cat "$LIBS/.pom.sha256")" != "$pom_sum" ]]; then
      command -v mvn >/dev/null || die "mvn not found (needed once to download Kafka jars)"
      log "resolving Kafka jars into $LIBS"
      rm -rf "$LIBS.tmp"
      # shellcheck disable=SC2086
      # Output is kept in a log and only shown on failure (Maven 3.8 -q still
      # prints stray ANSI codes).
      if ! mvn -B -q -ntp -Dstyle.color=never ${STRAIT_MVN_OPTS:-} -f "$POM" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$LIBS.tmp" >"$CACHE/mvn.log" 2>&1; then
        cat "$CACHE/mvn.log" >&2
        die "mvn dependency:copy-dependencies failed (log: ${CACHE#"$REPO"/}/mvn.log)"
      fi
      ls "$LIBS.tmp"/kafka_2.13-*.jar >/dev/null 2>&1 || die "Kafka jars missing after mvn run"
      echo "$pom_sum" >"$LIBS.tmp/.pom.sha256"
      rm -rf "$LIBS"
      mv "$LIBS.tmp" "$LIBS"
    fi
    local helper_sum
    helper_sum=$(file_sum "$HERE/KafkaCtl.java" "$LIBS/.pom.sha256")
    if [[ ! -f "$HELPER/.sha256" || "$(cat "$HELPER/.sha256")" != "$helper_sum" ]]; then
      rm -rf "$HELPER.tmp"
      mkdir -p "$HELPER.tmp"
      "$(dirname "$(readlink -f "$(command -v "$JAVA")")")/javac" -nowarn -d "$HELPER.tmp" \
        -cp "$LIBS/*" "$HERE/KafkaCtl.java" 1>&2 || die "compiling KafkaCtl.java failed"
      echo "$helper_sum" >"$HELPER.tmp/.sha256"
      rm -rf "$HELPER"
      mv "$HELPER.tmp" "$HELPER"
    fi
  ) 9>"$CACHE/.install.lock"
}

classpath() {
  local cp="" j
  for j in "$LIBS"/*.jar; do
    cp+="${cp:+:}$j"
  done
  printf '%s\n' "$cp"
}

# Runs the readiness/format helper in a small JVM; its logs go to stderr.
helper() {
  "$JAVA" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$HERE/tools-log4j2.xml" -Dstrait.kafka.tools.loglevel=OFF \
    -Dstrait.kafka.verbose="${KAFKA_SH_VERBOSE:-false}" \
    -cp "$HELPER:$LIBS/*" KafkaCtl "$@"
}

# ---------------------------------------------------------------- processes

cluster_dir() { printf '%s/%s' "$RUN_ROOT" "$1"; }
node_dir() { printf '%s/%s/node%s' "$RUN_ROOT" "$1" "$2"; }

# Prints the pid of node ID of cluster NAME if that process is alive and is
# really that node (guards against recycled pids); returns 1 otherwise.
node_pid() {
  local d pid state
  d=$(node_dir "$1" "$2")
  [[ -f "$d/pid" ]] || return 1
  pid=$(<"$d/pid")
  [[ "$pid" =~ ^[0-9]+$ && -r "/proc/$pid/cmdline" ]] || return 1
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)
  [[ -n "$state" && "$state" != Z && "$state" != X ]] || return 1
  tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -xF "$d/server.properties" >/dev/null || return 1
  printf '%s\n' "$pid"
}

# Lists node ids of a cluster from its node directories.
node_ids() {
  local d
  for d in "$(cluster_dir "$1")"/node*; do
    [[ -d "$d" ]] && printf '%s\n' "${d##*/node}"
  done
  return 0
}

# Sends SIGTERM to the given nodes, waits up to TIMEOUT seconds, then SIGKILLs.
stop_nodes() {
  local name=$1 timeout=$2
  shift 2
  local id pid pids=() left deadline
  for id in "$@"; do
    if pid=$(node_pid "$name" "$id"); then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$id")
    fi
  done
  deadline=$(($(now_ms) + timeout * 1000))
  while ((${#pids[@]})); do
    left=()
    for id in "${pids[@]}"; do
      node_pid "$name" "$id" >/dev/null && left+=("$id")
    done
    ((${#left[@]})) || break
    if (($(now_ms) >= deadline)); then
      for id in "${left[@]}"; do
        if pid=$(node_pid "$name" "$id"); then
          log "node $id of $name did not stop within ${timeout}s, sending SIGKILL"
          touch "$(node_dir "$name" "$id")/killed"
          kill -KILL "$pid" 2>/dev/null || true
        fi
      done
      # SIGKILL cannot be ignored; give the kernel a moment to reap.
      for _ in $(seq 50); do
        left=()
        for id in "${pids[@]}"; do
          node_pid "$name" "$id" >/dev/null && left+=("$id")
        done
        ((${#left[@]})) || break
        sleep 0.1
      done
      break
    fi
    sleep 0.1
  done
  for id in "$@"; do
    rm -f "$(node_dir "$name" "$id")/pid"
    cds_collect "$(node_dir "$name" "$id")"
    rm -f "$(node_dir "$name" "$id")/killed"
  done
}

# AppCDS: JVM start-up dominates node start on small machines (3 JVMs on 2
# cores). The first gracefully stopped node dumps the classes it loaded into
# a dynamic CDS archive (JDK 13+ -XX:ArchiveClassesAtExit); later nodes map it
# (-XX:SharedArchiveFile), which saves ~1.5 s of CPU per node. The archive is
# keyed by the pom checksum and the JDK build; a stale archive is ignored by
# the JVM (-Xshare:auto), so the worst case is a slower start.
CDS_ARCHIVE=""
cds_archive() {
  if [[ -z "$CDS_ARCHIVE" ]]; then
    local jbin key
    jbin=$(readlink -f "$(command -v "$JAVA")")
    key=$({ cat "$LIBS/.pom.sha256"; echo "$jbin"; stat -c '%s %Y' "${jbin%/bin/java}/lib/modules" 2>/dev/null; } |
      sha256sum | cut -c1-16)
    CDS_ARCHIVE="$CACHE/cds/kafka-$key.jsa"
  fi
  printf '%s\n' "$CDS_ARCHIVE"
}

cds_opts() {
  local d=$1 archive
  [[ "$CDS" == true ]] || return 0
  archive=$(cds_archive)
  rm -f "$d/cds-dump"
  if [[ -s "$archive" ]]; then
    printf '%s\n' "-XX:SharedArchiveFile=$archive"
  elif [[ ! -e "$CACHE/cds/dumping" ]] || [[ -n "$(find "$CACHE/cds/dumping" -mmin +10 2>/dev/null)" ]]; then
    # Only one node at a time records an archive.
    mkdir -p "$CACHE/cds"
    touch "$CACHE/cds/dumping"
    printf '%s\n' "$archive.tmp.$$.${d##*/}" >"$d/cds-dump"
    printf '%s\n' "-XX:ArchiveClassesAtExit=$archive.tmp.$$.${d##*/}"
  fi
}

# Called after a node has exited: publishes the archive it dumped, if any.
cds_collect() {
  local d=$1 tmp
  [[ -f "$d/cds-dump" ]] || return 0
  tmp=$(<"$d/cds-dump")
  rm -f "$d/cds-dump" "$CACHE/cds/dumping"
  if [[ -s "$tmp" && ! -e "$d/killed" ]]; then
    local archive f
    archive=$(cds_archive)
    for f in "$CACHE"/cds/kafka-*.jsa; do
      [[ "$f" == "$archive" ]] || rm -f "$f"
    done
    mv -f "$tmp" "$archive"
  else
    rm -f "$tmp"
  fi
}

launch_node() {
  local name=$1 id=$2 d cds
  d=$(node_dir "$name" "$id")
  rm -f "$d/pid"
  # Remember where this launch's log output starts (see relaunch_bind_failures).
  printf '%s %s\n' "$(stat -c %s "$d/server.log" 2>/dev/null || echo 0)" \
    "$(stat -c %s "$d/stdout.log" 2>/dev/null || echo 0)" >"$d/log-offsets"
  cds=$(cds_opts "$d")
  # setsid: the node must not die with the caller's process group (Ctrl-C in a
  # test run); the wrapper writes its own pid before exec'ing the JVM.
  # shellcheck disable=SC2086,SC2016
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' kafka-node "$d/pid" \
    "$JAVA" $HEAP_OPTS $cds -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent \
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dstrait.kafka.node="$name/$id" -Dkafka.logs.dir="$d" \
    -Dlog4j2.configurationFile="$HERE/log4j2.xml" \
    -cp "$LIBS/*" kafka.Kafka "$d/server.properties" \
    >>"$d/stdout.log" 2>&1 </dev/null &
  local i
  for i in $(seq 100); do
    [[ -s "$d/pid" ]] && return 0
    sleep 0.02
  done
  die "node $id of $name did not start"
}

# The listener ports may lie in the kernel's ephemeral port range
# (net.ipv4.ip_local_port_range, usually 32768-60999). A short-lived outgoing
# connection (e.g. a node probing a peer that is not up yet) can then hold a
# port at the moment a node binds it. Nodes that died with "Address already in
# use" are relaunched (their storage is formatted already, so this is a plain
# restart). Returns 1 if some dead node failed for another reason.
relaunch_bind_failures() {
  local name=$1 ids=$2 id d off_log off_out relaunched=1
  for id in $ids; do
    node_pid "$name" "$id" >/dev/null && continue
    d=$(node_dir "$name" "$id")
    read -r off_log off_out <"$d/log-offsets" 2>/dev/null || { off_log=0; off_out=0; }
    if { tail -c +$((off_log + 1)) "$d/server.log" 2>/dev/null
         tail -c +$((off_out + 1)) "$d/stdout.log" 2>/dev/null; } | grep 'Address already in use' >/dev/null; then
      # (no grep -q: with pipefail an early grep exit would fail the pipeline)
      log "node $id of $name could not bind its port (taken by another socket); relaunching it"
      sleep 1
      launch_node "$name" "$id"
      relaunched=0
    else
      return 1
    fi
  done
  return $relaunched
}

# wait_ready NAME "IDS" HELPER_ARGS...: runs the readiness helper until it
# succeeds or KAFKA_READY_TIMEOUT passes, relaunching nodes among IDS that
# lost a port race (at most 3 times).
wait_ready() {
  local name=$1 ids=$2 rc tries=0 deadline
  shift 2
  deadline=$(($(now_ms) + READY_TIMEOUT * 1000))
  while :; do
    rc=0
    helper "$@" --timeout-ms $((deadline > $(now_ms) ? deadline - $(now_ms) : 1)) || rc=$?
    ((rc == 0)) && return 0
    if ((rc == 3 && tries < 3)) && relaunch_bind_failures "$name" "$ids"; then
      tries=$((tries + 1))
      continue
    fi
    return "$rc"
  done
}

print_logs() {
  local name=$1 id d f
  for id in $(node_ids "$name"); do
    d=$(node_dir "$name" "$id")
    for f in "$d/stdout.log" "$d/server.log"; do
      [[ -s "$f" ]] || continue
      log "---- tail of ${f#"$REPO"/} ----"
      tail -n 40 "$f" >&2
    done
  done
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ------------------------------------------------------------------ config

write_config() {
  local name=$1 nodes=$2 base=$3 id=$4 d voters="" i rf isr drf
  d=$(node_dir "$name" "$id")
  for ((i = 1; i <= nodes; i++)); do
    voters+="${voters:+,}$i@127.0.0.1:$((base + 100 + i - 1))"
  done
  rf=$((nodes < 3 ? nodes : 3))
  isr=$((rf >= 3 ? 2 : 1))
  drf=$rf
  local client_listeners="PLAINTEXT://127.0.0.1:$((base + id - 1))" protocol_map="CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
  if [[ "$SECURE_CLUSTER" == true ]]; then
    # start-secure: one node; secured listeners on BASEPORT+1..+3.
    client_listeners+=",SASL_PLAINTEXT://127.0.0.1:$((base + 1)),SASL_SSL://127.0.0.1:$((base + 2)),SSL://127.0.0.1:$((base + 3))"
    protocol_map+=",SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL,SSL:SSL"
  fi
  cat >"$d/server.properties" <<EOF
# Generated by e2e/kafka/kafka.sh for cluster "$name" ($nodes node(s)); rewritten on every start.
process.roles=broker,controller
node.id=$id
controller.quorum.voters=$voters
listeners=$client_listeners,CONTROLLER://127.0.0.1:$((base + 100 + id - 1))
advertised.listeners=$client_listeners
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=$protocol_map
log.dirs=$d/data

# Topics
num.partitions=1
default.replication.factor=$drf
auto.create.topics.enable=true

# Internal topics: small and replicated min(3, nodes) times
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
transaction.state.log.num.partitions=3
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$isr
share.coordinator.state.topic.num.partitions=3

# Groups: no join delay for classic groups; the KIP-848 "consumer" protocol
# is enabled by default in Kafka 4.x (group.coordinator.rebalance.protocols).
group.initial.rebalance.delay.ms=0

# Small footprint for 2-core test machines
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
num.replica.fetchers=1
background.threads=4
log.cleaner.threads=1
log.cleaner.dedupe.buffer.size=16777216
# Faster unfencing after (re)start
broker.heartbeat.interval.ms=500
EOF
  if [[ "$SECURE_CLUSTER" == true ]]; then
    write_secure_config "$(cluster_dir "$name")" >>"$d/server.properties"
  fi
  if [[ -n "${KAFKA_EXTRA_CONFIG:-}" ]]; then
    printf '\n# KAFKA_EXTRA_CONFIG\n%s\n' "$KAFKA_EXTRA_CONFIG" >>"$d/server.properties"
  fi
}

# ------------------------------------------------------- secured listeners

# Prints the server.properties lines of a start-secure node. Uses the
# credentials set by new_credentials and the PEM files gen_certs wrote to DIR.
# Controller and inter-broker traffic stay on PLAINTEXT (and so does the
# readiness helper's bootstrap); no authorizer is configured.
write_secure_config() {
  local dir=$1 plain_users
  plain_users="user_${SASL_USER}=\"${PLAIN_PASSWORD}\""
  cat <<EOF

# Secured client listeners (kafka.sh start-secure)
# SASL_PLAINTEXT: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512. The SCRAM credentials
# are written into the metadata log at format time (StorageTool --add-scram).
listener.name.sasl_plaintext.sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required $plain_users;
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
# SASL_SSL: PLAIN over TLS, no client certificate asked for.
listener.name.sasl_ssl.sasl.enabled.mechanisms=PLAIN
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required $plain_users;
# TLS of SASL_SSL and SSL: PEM files generated on every start.
ssl.keystore.type=PEM
ssl.keystore.location=$dir/broker.pem
ssl.truststore.type=PEM
ssl.truststore.location=$dir/ca.pem
ssl.client.auth=none
# SSL: mutual TLS, a client certificate issued by the CA is required.
listener.name.ssl.ssl.client.auth=required
EOF
}

# Sets SASL_USER and a random password per mechanism (new on every start).
new_credentials() {
  SASL_USER=strait
  PLAIN_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
  SCRAM_SHA_256_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
  SCRAM_SHA_512_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
}

# Runs openssl, collecting its output in CERT_LOG (shown on failure).
ossl() {
  openssl "$@" >>"$CERT_LOG" 2>&1 || { cat "$CERT_LOG" >&2; die "openssl $1 failed while generating certificates"; }
}

# Generates a throwaway CA, a broker certificate (SAN IP:127.0.0.1 and
# DNS:localhost, serverAuth) and a client certificate (clientAuth) in DIR.
# Keys are unencrypted EC P-256 in PKCS#8 PEM. Writes ca.pem; broker.pem
# (key, certificate, CA) for the broker's PEM keystore; client.pem (key and
# certificate), client.crt and client.key. The CA key is deleted.
gen_certs() {
  local dir=$1 leaf old_umask
  command -v openssl >/dev/null || die "openssl not found (Debian: apt-get install -y openssl)"
  CERT_LOG="$dir/certs.log"
  : >"$CERT_LOG"
  cat >"$dir/openssl.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = Strait e2e throwaway CA
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[broker]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
  old_umask=$(umask)
  umask 077
  ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/ca.key"
  ossl req -config "$dir/openssl.cnf" -x509 -new -key "$dir/ca.key" -sha256 -days 7 \
    -extensions ca -out "$dir/ca.pem"
  for leaf in broker client; do
    ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/$leaf.key"
    ossl req -config "$dir/openssl.cnf" -new -key "$dir/$leaf.key" -subj "/CN=strait-e2e-$leaf" \
      -out "$dir/$leaf.csr"
    # A random positive 63-bit serial.
    ossl x509 -req -in "$dir/$leaf.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
      -set_serial "0x$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n' | sed 's/^./7/')" \
      -days 7 -sha256 -extfile "$dir/openssl.cnf" -extensions "$leaf" -out "$dir/$leaf.crt"
  done
  cat "$dir/broker.key" "$dir/broker.crt" "$dir/ca.pem" >"$dir/broker.pem"
  cat "$dir/client.key" "$dir/client.crt" >"$dir/client.pem"
  umask "$old_umask"
  rm -f "$dir/ca.key" "$dir"/*.csr "$dir/openssl.cnf"
}

# Writes DIR/secure.env: listener addresses, PEM paths and credentials of a
# start-secure cluster as KEY=VALUE lines (also what start-secure prints).
write_secure_env() {
  local dir=$1 base=$2
  (
    umask 077
    cat >"$dir/secure.env" <<EOF
PLAINTEXT=127.0.0.1:$base
SASL_PLAINTEXT=127.0.0.1:$((base + 1))
SASL_SSL=127.0.0.1:$((base + 2))
SSL=127.0.0.1:$((base + 3))
RUN_DIR=$dir
CA_PEM=$dir/ca.pem
CLIENT_PEM=$dir/client.pem
CLIENT_CERT=$dir/client.crt
CLIENT_KEY=$dir/client.key
SASL_USER=$SASL_USER
PLAIN_PASSWORD=$PLAIN_PASSWORD
SCRAM_SHA_256_PASSWORD=$SCRAM_SHA_256_PASSWORD
SCRAM_SHA_512_PASSWORD=$SCRAM_SHA_512_PASSWORD
EOF
  )
}

gen_cluster_id() {
  local id
  while :; do
    id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    [[ "$id" != -* ]] && break
  done
  printf '%s\n' "$id"
}

bootstrap_of() {
  local nodes=$1 base=$2 i out=""
  for ((i = 1; i <= nodes; i++)); do
    out+="${out:+,}127.0.0.1:$((base + i - 1))"
  done
  printf '%s\n' "$out"
}

valid_name() { [[ "$1" =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]] || die "invalid cluster name '$1'"; }

# shellcheck disable=SC2153 # NODES comes from cluster.env
check_node_id() {
  if ! [[ "$1" =~ ^[0-9]+$ ]] || (($1 < 1 || $1 > NODES)); then
    die "node id must be 1..$NODES"
  fi
}

# Sets NODES, BASEPORT and CLUSTER_ID of an existing cluster.
load_cluster() {
  local f
  f="$(cluster_dir "$1")/cluster.env"
  [[ -f "$f" ]] || die "cluster '$1' is not known (no $f)"
  # shellcheck disable=SC1090
  source "$f"
  : "${NODES:?}" "${BASEPORT:?}"
}

# ----------------------------------------------------------------- commands

cmd_start() {
  (($# == 3)) || usage
  local name=$1 nodes=$2 base=$3 dir id port t0 pidfiles="" cid bootstrap ids
  valid_name "$name"
  [[ "$nodes" =~ ^[1-9]$ ]] || die "NODES must be 1..9 (normally 1 or 3)"
  if ! [[ "$base" =~ ^[0-9]+$ ]] || ((base < 1024 || base + 100 + nodes > 65535)); then
    die "bad BASEPORT '$base'"
  fi
  t0=$(now_ms)
  install
  dir=$(cluster_dir "$name")
  if [[ -d "$dir" ]]; then
    mapfile -t ids < <(node_ids "$name")
    stop_nodes "$name" 20 "${ids[@]}"
    rm -rf "$dir"
  fi
  for ((id = 1; id <= nodes; id++)); do
    for port in $((base + id - 1)) $((base + 100 + id - 1)); do
      port_in_use "$port" && die "port 127.0.0.1:$port is already in use"
    done
  done
  local format_args=() ready_args=()
  if [[ "$SECURE_CLUSTER" == true ]]; then
    for port in $((base + 1)) $((base + 2)) $((base + 3)); do
      port_in_use "$port" && die "port 127.0.0.1:$port is already in use"
    done
  fi
  cid=$(gen_cluster_id)
  bootstrap=$(bootstrap_of "$nodes" "$base")
  mkdir -p "$dir"
  printf 'NODES=%s\nBASEPORT=%s\nCLUSTER_ID=%s\nSECURE=%s\n' "$nodes" "$base" "$cid" "$SECURE_CLUSTER" >"$dir/cluster.env"
  if [[ "$SECURE_CLUSTER" == true ]]; then
    gen_certs "$dir"
    new_credentials
    write_secure_env "$dir" "$base"
    format_args=(--add-scram "SCRAM-SHA-256=[name=$SASL_USER,password=$SCRAM_SHA_256_PASSWORD]"
      --add-scram "SCRAM-SHA-512=[name=$SASL_USER,password=$SCRAM_SHA_512_PASSWORD]")
    ready_args=(--secure-env "$dir/secure.env")
  fi
  local configs=()
  for ((id = 1; id <= nodes; id++)); do
    mkdir -p "$(node_dir "$name" "$id")/data"
    write_config "$name" "$nodes" "$base" "$id"
    configs+=("$(node_dir "$name" "$id")/server.properties")
  done
  vlog "storage: formatting"
  if ! helper format "$cid" "${configs[@]}" "${format_args[@]}" >"$dir/format.log" 2>&1; then
    cat "$dir/format.log" >&2
    die "formatting storage for cluster '$name' failed"
  fi
  vlog "storage: formatted"
  for ((id = 1; id <= nodes; id++)); do
    launch_node "$name" "$id"
    pidfiles+="${pidfiles:+,}$(node_dir "$name" "$id")/pid"
  done
  if ! wait_ready "$name" "$(seq -s ' ' 1 "$nodes")" ready --bootstrap "$bootstrap" \
      --nodes "$nodes" --pid-files "$pidfiles" "${ready_args[@]}"; then
    log "cluster '$name' did not become ready; node logs follow (kept in ${dir#"$REPO"/})"
    print_logs "$name"
    mapfile -t ids < <(node_ids "$name")
    stop_nodes "$name" 5 "${ids[@]}"
    die "start of cluster '$name' failed"
  fi
  printf '%s\n' "$bootstrap" >"$dir/bootstrap"
  log "cluster '$name' ($nodes node(s)) ready in $(($(now_ms) - t0)) ms"
  if [[ "$SECURE_CLUSTER" == true ]]; then
    cat "$dir/secure.env"
  else
    printf '%s\n' "$bootstrap"
  fi
}

# start-secure NAME BASEPORT: one node like `start NAME 1 BASEPORT` plus
# SASL_PLAINTEXT (BASEPORT+1), SASL_SSL (BASEPORT+2) and mutual-TLS SSL
# (BASEPORT+3) client listeners; see write_secure_config.
cmd_start_secure() {
  (($# == 2)) || usage
  SECURE_CLUSTER=true
  cmd_start "$1" 1 "$2"
}

cmd_stop() {
  (($# == 1)) || usage
  local name=$1 dir ids
  valid_name "$name"
  dir=$(cluster_dir "$name")
  [[ -d "$dir" ]] || return 0
  mapfile -t ids < <(node_ids "$name")
  stop_nodes "$name" 20 "${ids[@]}"
  rm -rf "$dir"
}

cmd_stop_node() {
  (($# == 2)) || usage
  local name=$1 id=$2
  valid_name "$name"
  load_cluster "$name"
  check_node_id "$id"
  stop_nodes "$name" 60 "$id"
}

cmd_start_node() {
  (($# == 2)) || usage
  local name=$1 id=$2 d
  valid_name "$name"
  load_cluster "$name"
  check_node_id "$id"
  d=$(node_dir "$name" "$id")
  [[ -f "$d/server.properties" ]] || die "node $id of cluster '$name' has no config"
  if node_pid "$name" "$id" >/dev/null; then
    log "node $id of cluster '$name' is already running"
  else
    launch_node "$name" "$id"
  fi
  if ! wait_ready "$name" "$id" node-ready \
      --bootstrap "127.0.0.1:$((BASEPORT + id - 1))" --node-id "$id" --pid-files "$d/pid"; then
    log "node $id of cluster '$name' did not become ready"
    print_logs "$name"
    die "start-node failed"
  fi
}

cmd_status() {
  (($# == 1)) || usage
  local name=$1 id rc=0
  valid_name "$name"
  load_cluster "$name"
  for ((id = 1; id <= NODES; id++)); do
    if pid=$(node_pid "$name" "$id"); then
      log "node $id: running (pid $pid)"
    else
      log "node $id: stopped"
      rc=1
    fi
  done
  bootstrap_of "$NODES" "$BASEPORT"
  return $rc
}

cmd_tool() {
  (($# >= 1)) || usage
  install
  local main=$1
  shift
  exec "$JAVA" -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$HERE/tools-log4j2.xml" \
    -cp "$LIBS/*" "$main" "$@"
}

(($# >= 1)) || usage
cmd=$1
shift
case "$cmd" in
  install) (($# == 0)) || usage; install ;;
  start) cmd_start "$@" ;;
  start-secure) cmd_start_secure "$@" ;;
  stop) cmd_stop "$@" ;;
  stop-node) cmd_stop_node "$@" ;;
  start-node) cmd_start_node "$@" ;;
  status) cmd_status "$@" ;;
  tool) cmd_tool "$@" ;;
  classpath) (($# == 0)) || usage; install; classpath ;;
  -h | --help | help) usage ;;
  *) log "unknown command '$cmd'"; usage ;;
esac
