// Helper for e2e/kafka/kafka.sh. Compiled once into .cache/kafka/helper and run
// with the cached Kafka classpath. Keeps the shell script free of fixed sleeps
// and avoids starting one JVM per formatted node or per readiness probe.
//
//   format CLUSTER_ID CONFIG...
//       Runs `kafka.tools.StorageTool format -t CLUSTER_ID -c CONFIG` for every
//       config in a single JVM.
//   ready --bootstrap HOSTS --nodes N --timeout-ms MS [--pid-files F1,F2,...]
//       Waits until N brokers are registered and unfenced, a probe topic with
//       min(3,N) replicas can be created and is fully in sync, and the group
//       and transaction coordinators answer (this also creates
//       __consumer_offsets and __transaction_state). Deletes the probe topic.
//   node-ready --bootstrap HOST:PORT --node-id ID --timeout-ms MS [--pid-files F]
//       Waits until the broker behind HOST:PORT answers and broker ID is part
//       of the cluster metadata again (used after a single-node restart).
//
// Exit codes: 0 ready, 2 usage, 3 a node process exited, 4 timeout.

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
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
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
        for (int i = 1; i < args.length; i++) {
            if (args[i].startsWith("--") && i + 1 < args.length) {
                opts.put(args[i].substring(2), args[++i]);
            } else {
                positional.add(args[i]);
            }
        }
        int rc;
        switch (cmd) {
            case "format":
                rc = format(positional);
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
        System.err.println("usage: KafkaCtl format CLUSTER_ID CONFIG... | ready --bootstrap H --nodes N --timeout-ms MS [--pid-files F,...]"
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

    private static int format(List<String> positional) {
        if (positional.size() < 2) {
            usage();
        }
        String clusterId = positional.get(0);
        for (String config : positional.subList(1, positional.size())) {
            String[] a = {"format", "-t", clusterId, "-c", config};
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
    private final long deadline;
    private final List<Path> pidFiles = new ArrayList<>();
    private String lastProblem = "nothing checked yet";

    private KafkaCtl(Map<String, String> opts) {
        this.bootstrap = require(opts, "bootstrap");
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
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
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
        System.err.printf("KafkaCtl: %d broker(s) ready after %d ms%n", nodes,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
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
