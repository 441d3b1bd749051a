// Helper for e2e/kafka/kafka.sh. Compiled once into .cache/kafka/helper and run
// with the cached Kafka classpath. Keeps the shell script free of fixed sleeps
// and avoids starting one JVM per formatted node or per readiness probe.
//
//   format CLUSTER_ID CONFIG... [--add-scram CREDENTIAL]...
//       Runs `kafka.tools.StorageTool format -t CLUSTER_ID -c CONFIG` for every
//       config in a single JVM, passing each --add-scram on (SCRAM users
//       created in the metadata log, e.g. 'SCRAM-SHA-256=[name=u,password=p]').
//   ready --bootstrap HOSTS --nodes N --timeout-ms MS [--pid-files F1,F2,...]
//         [--secure-env FILE]
//       Waits until N brokers are registered and unfenced, a probe topic with
//       min(3,N) replicas can be created and is fully in sync, and the group
//       and transaction coordinators answer (this also creates
//       __consumer_offsets and __transaction_state). Deletes the probe topic.
//       With --secure-env (the secure.env of `kafka.sh start-secure`), then
//       also waits until an admin client gets the cluster's brokers through
//       every secured listener and mechanism, and checks that the SSL
//       listener refuses a client without a certificate (exit 5 otherwise).
//   node-ready --bootstrap HOST:PORT --node-id ID --timeout-ms MS [--pid-files F]
//       Waits until the broker behind HOST:PORT answers and broker ID is part
//       of the cluster metadata again (used after a single-node restart).
//
// Exit codes: 0 ready, 2 usage, 3 a node process exited, 4 timeout,
// 5 the SSL listener accepted a client without a certificate.

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.TransactionalIdNotFoundException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

public final class KafkaCtl {

    private static final String PROBE_ID = "__strait_ready";

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            usage();
        }
        String cmd = args[0];
        Map<String, String> opts = new HashMap<>();
        List<String> positional = new ArrayList<>();
        List<String> scram = new ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            if (args[i].equals("--add-scram") && i + 1 < args.length) {
                scram.add(args[++i]);
            } else if (args[i].startsWith("--") && i + 1 < args.length) {
                opts.put(args[i].substring(2), args[++i]);
            } else {
                positional.add(args[i]);
            }
        }
        int rc;
        switch (cmd) {
            case "format":
                rc = format(positional, scram);
                break;
            case "ready":
                rc = new KafkaCtl(opts).clusterReady(Integer.parseInt(require(opts, "nodes")));
                break;
            case "node-ready":
                rc = new KafkaCtl(opts).nodeReady(Integer.parseInt(require(opts, "node-id")));
                break;
            default:
                usage();
                return;
        }
        System.exit(rc);
    }

    private static void usage() {
        System.err.println("usage: KafkaCtl format CLUSTER_ID CONFIG... [--add-scram C]... | ready --bootstrap H --nodes N --timeout-ms MS [--pid-files F,...] [--secure-env FILE]"
                + " | node-ready --bootstrap H --node-id ID --timeout-ms MS [--pid-files F]");
        System.exit(2);
    }

    private static String require(Map<String, String> opts, String name) {
        String v = opts.get(name);
        if (v == null) {
            System.err.println("KafkaCtl: missing --" + name);
            usage();
        }
        return v;
    }

    // ---------------------------------------------------------------- format

    private static int format(List<String> positional, List<String> scram) {
        if (positional.size() < 2) {
            usage();
        }
        String clusterId = positional.get(0);
        for (String config : positional.subList(1, positional.size())) {
            List<String> argv = new ArrayList<>(List.of("format", "-t", clusterId, "-c", config));
            for (String credential : scram) {
                argv.add("--add-scram");
                argv.add(credential);
            }
            String[] a = argv.toArray(new String[0]);
            int rc;
            try {
                rc = kafka.tools.StorageTool.execute(a, new PrintStream(System.err, true, StandardCharsets.UTF_8));
            } catch (Exception e) {
                System.err.println("KafkaCtl: formatting " + config + " failed: " + e);
                return 1;
            }
            if (rc != 0) {
                System.err.println("KafkaCtl: formatting " + config + " failed with exit code " + rc);
                return rc;
            }
        }
        return 0;
    }

    // ------------------------------------------------------------- readiness

    private final String bootstrap;
    private final String secureEnv;
    private final long deadline;
    private final List<Path> pidFiles = new ArrayList<>();
    private String lastProblem = "nothing checked yet";

    private KafkaCtl(Map<String, String> opts) {
        this.bootstrap = require(opts, "bootstrap");
        this.secureEnv = opts.get("secure-env");
        long timeoutMs = Long.parseLong(opts.getOrDefault("timeout-ms", "120000"));
        this.deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        String pf = opts.get("pid-files");
        if (pf != null && !pf.isEmpty()) {
            for (String f : pf.split(",")) {
                pidFiles.add(Path.of(f));
            }
        }
    }

    private Admin admin() {
        return admin(bootstrap, Map.of());
    }

    private static Admin admin(String bootstrap, Map<String, String> security) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.putAll(security);
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, "strait-kafka-ready");
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
        p.put(AdminClientConfig.RETRY_BACKOFF_MS_CONFIG, "100");
        p.put(AdminClientConfig.RETRY_BACKOFF_MAX_MS_CONFIG, "500");
        p.put(AdminClientConfig.RECONNECT_BACKOFF_MS_CONFIG, "100");
        p.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");
        p.put(AdminClientConfig.SOCKET_CONNECTION_SETUP_TIMEOUT_MS_CONFIG, "2000");
        p.put(AdminClientConfig.SOCKET_CONNECTION_SETUP_TIMEOUT_MAX_MS_CONFIG, "5000");
        return Admin.create(p);
    }

    /** Fails fast (exit 3) when one of the node processes is gone. */
    private void checkProcesses() {
        for (Path f : pidFiles) {
            long pid;
            try {
                pid = Long.parseLong(Files.readString(f).trim());
            } catch (Exception e) {
                continue; // pid file not written yet
            }
            if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                continue;
            }
            System.err.println("KafkaCtl: node process " + pid + " (" + f + ") has exited");
            System.exit(3);
        }
    }

    private boolean expired() {
        return System.nanoTime() - deadline > 0;
    }

    private long remainingMs() {
        return Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
    }

    private void pause() throws InterruptedException {
        checkProcesses();
        Thread.sleep(200);
    }

    private static final boolean VERBOSE = Boolean.getBoolean("strait.kafka.verbose");
    private final long t0 = System.nanoTime();

    private void phase(String what) {
        if (VERBOSE) {
            System.err.printf("KafkaCtl: +%d ms %s%n", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), what);
        }
    }

    private int timeout(String what) {
        System.err.println("KafkaCtl: timed out waiting for " + what + " (last problem: " + lastProblem + ")");
        return 4;
    }

    private static String describe(Throwable t) {
        if (t instanceof ExecutionException && t.getCause() != null) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName() + ": " + t.getMessage();
    }

    private <T> T get(org.apache.kafka.common.KafkaFuture<T> f) throws Exception {
        return f.get(Math.min(remainingMs(), 15000), TimeUnit.MILLISECONDS);
    }

    private int clusterReady(int nodes) throws Exception {
        long start = System.nanoTime();
        int rf = Math.min(3, nodes);
        String topic = PROBE_ID + "_" + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
        try (Admin admin = admin()) {
            // 1. Every broker registered and unfenced.
            while (true) {
                checkProcesses();
                try {
                    Collection<Node> seen = get(admin.describeCluster(new DescribeClusterOptions().timeoutMs(5000)).nodes());
                    if (seen.size() >= nodes) {
                        break;
                    }
                    lastProblem = seen.size() + " of " + nodes + " brokers registered";
                } catch (Exception e) {
                    lastProblem = describe(e);
                }
                if (expired()) {
                    return timeout(nodes + " registered brokers");
                }
                pause();
            }

            phase("brokers registered");
            // 2. A topic with min(3, nodes) replicas can be created and gets in sync.
            boolean created = false;
            while (true) {
                checkProcesses();
                try {
                    if (!created) {
                        try {
                            get(admin.createTopics(List.of(new NewTopic(topic, nodes, (short) rf))).all());
                        } catch (ExecutionException e) {
                            if (!(e.getCause() instanceof TopicExistsException)) {
                                throw e;
                            }
                        }
                        created = true;
                    }
                    TopicDescription d = get(admin.describeTopics(List.of(topic)).allTopicNames()).get(topic);
                    boolean ok = d.partitions().size() == nodes;
                    for (TopicPartitionInfo p : d.partitions()) {
                        ok &= p.leader() != null && !p.leader().isEmpty() && p.isr().size() == rf;
                    }
                    if (ok) {
                        break;
                    }
                    lastProblem = "probe topic not fully in sync yet: " + d.partitions();
                } catch (Exception e) {
                    lastProblem = describe(e);
                }
                if (expired()) {
                    return timeout("a fully replicated probe topic");
                }
                pause();
            }

            phase("probe topic in sync");
            // 3. Group coordinator (creates __consumer_offsets) answers.
            while (true) {
                checkProcesses();
                try {
                    try {
                        get(admin.describeConsumerGroups(List.of(PROBE_ID)).all());
                    } catch (ExecutionException e) {
                        if (!(e.getCause() instanceof GroupIdNotFoundException)) {
                            throw e;
                        }
                    }
                    break;
                } catch (Exception e) {
                    lastProblem = "group coordinator: " + describe(e);
                }
                if (expired()) {
                    return timeout("the group coordinator");
                }
                pause();
            }

            phase("group coordinator ready");
            // 4. Transaction coordinator (creates __transaction_state) answers.
            while (true) {
                checkProcesses();
                try {
                    try {
                        get(admin.describeTransactions(List.of(PROBE_ID)).all());
                    } catch (ExecutionException e) {
                        if (!(e.getCause() instanceof TransactionalIdNotFoundException)) {
                            throw e;
                        }
                    }
                    break;
                } catch (Exception e) {
                    lastProblem = "transaction coordinator: " + describe(e);
                }
                if (expired()) {
                    return timeout("the transaction coordinator");
                }
                pause();
            }

            phase("transaction coordinator ready");
            // 5. Remove the probe topic again so tests see a clean cluster.
            try {
                get(admin.deleteTopics(List.of(topic)).all());
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
                    System.err.println("KafkaCtl: warning: could not delete probe topic " + topic + ": " + describe(e));
                }
            }
        }
        if (secureEnv != null) {
            int rc = secureListenersReady(nodes);
            if (rc != 0) {
                return rc;
            }
        }
        System.err.printf("KafkaCtl: %d broker(s) ready after %d ms%n", nodes,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
        return 0;
    }

    // ------------------------------------------------------ secured listeners

    /** Reads the KEY=VALUE lines written by kafka.sh start-secure. */
    private static Map<String, String> readEnv(String file) throws IOException {
        Map<String, String> env = new HashMap<>();
        for (String line : Files.readAllLines(Path.of(file), StandardCharsets.UTF_8)) {
            int eq = line.indexOf('=');
            if (eq > 0 && !line.startsWith("#")) {
                env.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
            }
        }
        return env;
    }

    private static String jaas(String module, String user, String password) {
        return "org.apache.kafka.common.security." + module + " required username=\"" + user
                + "\" password=\"" + password + "\";";
    }

    /**
     * Each secured listener and mechanism, as a client would configure it:
     * the first element is a label, the second the bootstrap address, then
     * the security properties.
     */
    private static List<Object[]> secureClients(Map<String, String> env) {
        String user = env.get("SASL_USER");
        List<Object[]> out = new ArrayList<>();
        out.add(new Object[] {"SASL_PLAINTEXT/PLAIN", env.get("SASL_PLAINTEXT"), Map.of(
                CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT",
                SaslConfigs.SASL_MECHANISM, "PLAIN",
                SaslConfigs.SASL_JAAS_CONFIG, jaas("plain.PlainLoginModule", user, env.get("PLAIN_PASSWORD")))});
        out.add(new Object[] {"SASL_PLAINTEXT/SCRAM-SHA-256", env.get("SASL_PLAINTEXT"), Map.of(
                CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT",
                SaslConfigs.SASL_MECHANISM, "SCRAM-SHA-256",
                SaslConfigs.SASL_JAAS_CONFIG, jaas("scram.ScramLoginModule", user, env.get("SCRAM_SHA_256_PASSWORD")))});
        out.add(new Object[] {"SASL_PLAINTEXT/SCRAM-SHA-512", env.get("SASL_PLAINTEXT"), Map.of(
                CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT",
                SaslConfigs.SASL_MECHANISM, "SCRAM-SHA-512",
                SaslConfigs.SASL_JAAS_CONFIG, jaas("scram.ScramLoginModule", user, env.get("SCRAM_SHA_512_PASSWORD")))});
        out.add(new Object[] {"SASL_SSL/PLAIN", env.get("SASL_SSL"), Map.of(
                CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_SSL",
                SaslConfigs.SASL_MECHANISM, "PLAIN",
                SaslConfigs.SASL_JAAS_CONFIG, jaas("plain.PlainLoginModule", user, env.get("PLAIN_PASSWORD")),
                SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PEM",
                SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG, env.get("CA_PEM"))});
        out.add(new Object[] {"SSL (client certificate)", env.get("SSL"), Map.of(
                CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SSL",
                SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PEM",
                SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG, env.get("CA_PEM"),
                SslConfigs.SSL_KEYSTORE_TYPE_CONFIG, "PEM",
                SslConfigs.SSL_KEYSTORE_LOCATION_CONFIG, env.get("CLIENT_PEM"))});
        return out;
    }

    @SuppressWarnings("unchecked")
    private int secureListenersReady(int nodes) throws Exception {
        Map<String, String> env = readEnv(secureEnv);
        for (Object[] c : secureClients(env)) {
            String label = (String) c[0];
            try (Admin admin = admin((String) c[1], (Map<String, String>) c[2])) {
                while (true) {
                    checkProcesses();
                    try {
                        Collection<Node> seen = get(admin.describeCluster(new DescribeClusterOptions().timeoutMs(5000)).nodes());
                        if (seen.size() >= nodes) {
                            break;
                        }
                        lastProblem = label + ": " + seen.size() + " of " + nodes + " brokers";
                    } catch (Exception e) {
                        lastProblem = label + ": " + describe(e);
                    }
                    if (expired()) {
                        return timeout("listener " + label + " at " + c[1]);
                    }
                    pause();
                }
            }
            phase("secured listener ready: " + label);
        }
        // Mutual TLS must really be required: the same SSL client without a
        // keystore has to fail the handshake.
        Map<String, String> noCert = Map.of(
                CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SSL",
                SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PEM",
                SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG, env.get("CA_PEM"));
        try (Admin admin = admin(env.get("SSL"), noCert)) {
            get(admin.describeCluster(new DescribeClusterOptions().timeoutMs(5000)).nodes());
            System.err.println("KafkaCtl: the SSL listener " + env.get("SSL") + " accepted a client without a certificate");
            return 5;
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof SslAuthenticationException)) {
                System.err.println("KafkaCtl: warning: client without certificate failed, but not with an SSL error: " + describe(e));
            }
        } catch (java.util.concurrent.TimeoutException e) {
            System.err.println("KafkaCtl: warning: client without certificate timed out instead of failing the handshake");
        }
        phase("SSL listener refuses a client without certificate");
        return 0;
    }

    private int nodeReady(int nodeId) throws Exception {
        long start = System.nanoTime();
        try (Admin admin = admin()) {
            while (true) {
                checkProcesses();
                try {
                    Collection<Node> seen = get(admin.describeCluster(new DescribeClusterOptions().timeoutMs(5000)).nodes());
                    boolean found = false;
                    for (Node n : seen) {
                        found |= n.id() == nodeId;
                    }
                    if (found) {
                        break;
                    }
                    lastProblem = "broker " + nodeId + " not registered yet";
                } catch (Exception e) {
                    lastProblem = describe(e);
                }
                if (expired()) {
                    return timeout("broker " + nodeId);
                }
                pause();
            }
        }
        System.err.printf("KafkaCtl: broker %d ready after %d ms%n", nodeId,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
        return 0;
    }
}
