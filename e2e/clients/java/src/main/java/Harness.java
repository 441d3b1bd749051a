// Java (kafka-clients) harness for Strait's e2e tests.
//
// CLI contract shared with the harnesses in other languages:
//
//   produce --bootstrap HOSTS --topic T --count N --prefix P
//           [--compression none|gzip|snappy|lz4|zstd] [--idempotent]
//           [--transactional-id ID] [--keys K] [--property KEY=VALUE]...
//     Record i (0-based) gets key "key-(i mod K)" (K default 8) and value
//     "P-i", acks=all. With --transactional-id the records are sent in
//     transactions of 100 records, each committed. Prints "acked N" on success.
//
//   consume --bootstrap HOSTS --topic T --group G --count N
//           [--timeout-ms MS] [--group-protocol classic|consumer]
//           [--isolation read_committed|read_uncommitted]
//           [--property KEY=VALUE]...
//     Reads from the earliest offset until N records arrived or the timeout
//     (default 60000 ms) passed, commits the offsets of the printed records
//     synchronously and prints one JSON object per record:
//       {"p":PARTITION,"o":OFFSET,"k":"KEY","v":"VALUE"}
//
//   --property KEY=VALUE (repeatable, both commands) sets a kafka-clients
//   configuration property on the producer/consumer, e.g.
//   security.protocol=SASL_PLAINTEXT. It is applied after the harness's own
//   settings and so overrides them. The value is passed as a string.
//
// Authentication failures (org.apache.kafka.common.errors.AuthenticationException
// and its subclasses SaslAuthenticationException/SslAuthenticationException)
// are not retried: the harness prints "error: authentication failed: ..."
// with the client's message and exits 1 as soon as the client reports it.
//
// Exit codes: 0 success, 1 failure or timeout, 2 usage error.
// Only the contract output goes to stdout; errors and client logs go to stderr.

import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public final class Harness {

    private static final int TXN_BATCH = 100;

    /** Thrown for command line mistakes; leads to exit code 2. */
    private static final class UsageException extends RuntimeException {
        UsageException(String msg) {
            super(msg);
        }
    }

    public static void main(String[] args) {
        int rc;
        try {
            rc = run(args);
        } catch (UsageException e) {
            System.err.println("error: " + e.getMessage());
            System.err.println(USAGE);
            rc = 2;
        } catch (Throwable t) {
            System.err.println("error: " + failure(t));
            rc = 1;
        }
        System.out.flush();
        System.err.flush();
        System.exit(rc);
    }

    private static final String USAGE = String.join("\n",
            "usage:",
            "  Harness produce --bootstrap HOSTS --topic T --count N --prefix P",
            "          [--compression none|gzip|snappy|lz4|zstd] [--idempotent]",
            "          [--transactional-id ID] [--keys K] [--property KEY=VALUE]...",
            "  Harness consume --bootstrap HOSTS --topic T --group G --count N",
            "          [--timeout-ms MS] [--group-protocol classic|consumer]",
            "          [--isolation read_committed|read_uncommitted] [--property KEY=VALUE]...");

    private static int run(String[] args) throws Exception {
        if (args.length == 0) {
            throw new UsageException("missing command");
        }
        String cmd = args[0];
        switch (cmd) {
            case "produce":
                return produce(new Args(args, Set.of("bootstrap", "topic", "count", "prefix", "compression",
                        "transactional-id", "keys"), Set.of("idempotent"), Set.of("property")));
            case "consume":
                return consume(new Args(args, Set.of("bootstrap", "topic", "group", "count", "timeout-ms",
                        "group-protocol", "isolation"), Set.of(), Set.of("property")));
            case "-h":
            case "--help":
            case "help":
                System.err.println(USAGE);
                return 0;
            default:
                throw new UsageException("unknown command '" + cmd + "'");
        }
    }

    // ------------------------------------------------------------- produce

    private static int produce(Args a) throws Exception {
        String bootstrap = a.required("bootstrap");
        String topic = a.required("topic");
        long count = a.longValue("count", null, 0);
        String prefix = a.required("prefix");
        long keys = a.longValue("keys", 8L, 1);
        String compression = a.oneOf("compression", null, "none", "gzip", "snappy", "lz4", "zstd");
        String txnId = a.optional("transactional-id");
        boolean idempotent = a.flag("idempotent");

        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "strait-e2e-java-producer");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        if (compression != null) {
            p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, compression);
        }
        if (idempotent) {
            p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        }
        if (txnId != null) {
            p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, txnId);
        }
        p.putAll(a.properties("property"));

        AtomicLong acked = new AtomicLong();
        AtomicReference<Exception> firstError = new AtomicReference<>();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            if (txnId != null) {
                producer.initTransactions();
                for (long start = 0; start < count; start += TXN_BATCH) {
                    long end = Math.min(count, start + TXN_BATCH);
                    producer.beginTransaction();
                    List<Future<RecordMetadata>> sent = new ArrayList<>();
                    for (long i = start; i < end; i++) {
                        sent.add(producer.send(record(topic, i, keys, prefix), callback(acked, firstError)));
                    }
                    // commitTransaction flushes and fails if any send of this
                    // transaction failed.
                    producer.commitTransaction();
                    for (Future<RecordMetadata> f : sent) {
                        f.get();
                    }
                }
            } else {
                for (long i = 0; i < count && firstError.get() == null; i++) {
                    producer.send(record(topic, i, keys, prefix), callback(acked, firstError));
                }
                producer.flush();
            }
        }
        if (firstError.get() != null) {
            System.err.println("error: " + failure("send failed: ", firstError.get()));
            return 1;
        }
        if (acked.get() != count) {
            System.err.println("error: only " + acked.get() + " of " + count + " records were acknowledged");
            return 1;
        }
        System.out.println("acked " + count);
        return 0;
    }

    private static ProducerRecord<String, String> record(String topic, long i, long keys, String prefix) {
        return new ProducerRecord<>(topic, "key-" + (i % keys), prefix + "-" + i);
    }

    private static org.apache.kafka.clients.producer.Callback callback(AtomicLong acked,
                                                                      AtomicReference<Exception> firstError) {
        return (md, err) -> {
            if (err != null) {
                firstError.compareAndSet(null, err);
            } else {
                acked.incrementAndGet();
            }
        };
    }

    // ------------------------------------------------------------- consume

    private static int consume(Args a) {
        String bootstrap = a.required("bootstrap");
        String topic = a.required("topic");
        String group = a.required("group");
        long count = a.longValue("count", null, 0);
        long timeoutMs = a.longValue("timeout-ms", 60000L, 0);
        String protocol = a.oneOf("group-protocol", null, "classic", "consumer");
        String isolation = a.oneOf("isolation", null, "read_committed", "read_uncommitted");

        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "strait-e2e-java-consumer");
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        if (protocol != null) {
            p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, protocol);
        }
        if (isolation != null) {
            p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        }
        p.putAll(a.properties("property"));

        PrintWriter out = new PrintWriter(new BufferedWriter(
                new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16), false);
        Map<TopicPartition, OffsetAndMetadata> toCommit = new LinkedHashMap<>();
        long received = 0;
        long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        int rc = 0;
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p)) {
            consumer.subscribe(List.of(topic));
            while (received < count) {
                long left = (deadline - System.nanoTime()) / 1_000_000L;
                if (left <= 0) {
                    break;
                }
                ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(Math.min(left, 500)));
                for (ConsumerRecord<String, String> r : records) {
                    if (received >= count) {
                        break; // never report (or commit) more than asked for
                    }
                    out.append("{\"p\":").append(Integer.toString(r.partition()))
                            .append(",\"o\":").append(Long.toString(r.offset()))
                            .append(",\"k\":").append(json(r.key()))
                            .append(",\"v\":").append(json(r.value()))
                            .append("}\n");
                    toCommit.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
                    received++;
                }
                out.flush();
            }
            out.flush();
            if (!toCommit.isEmpty()) {
                try {
                    consumer.commitSync(toCommit, Duration.ofSeconds(30));
                } catch (Exception e) {
                    System.err.println("error: " + failure("commit failed: ", e));
                    rc = 1;
                }
            }
        } catch (Exception e) {
            out.flush();
            System.err.println("error: " + failure(e));
            return 1;
        }
        if (received < count) {
            System.err.println("error: timeout after " + timeoutMs + " ms: received " + received + " of " + count
                    + " records");
            return 1;
        }
        return rc;
    }

    /** Encodes a string as a JSON string literal (null stays null). */
    static String json(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder(s.length() + 2);
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"':
                    b.append("\\\"");
                    break;
                case '\\':
                    b.append("\\\\");
                    break;
                case '\n':
                    b.append("\\n");
                    break;
                case '\r':
                    b.append("\\r");
                    break;
                case '\t':
                    b.append("\\t");
                    break;
                default:
                    if (c < 0x20 || c == 0x2028 || c == 0x2029) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
            }
        }
        return b.append('"').toString();
    }

    /** The text printed after "error: " for a client failure. */
    private static String failure(Throwable t) {
        return failure("", t);
    }

    /**
     * Like describe, but an authentication failure anywhere in the cause chain
     * (SASL or TLS; kafka-clients does not retry those) is reported as
     * "authentication failed: CLASS: MESSAGE", MESSAGE being the client's text,
     * which includes the broker's error message for SASL failures.
     */
    private static String failure(String what, Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof AuthenticationException) {
                return "authentication failed: " + describe(c);
            }
        }
        return what + describe(t);
    }

    private static String describe(Throwable t) {
        Throwable c = t;
        while ((c instanceof java.util.concurrent.ExecutionException
                || c instanceof java.util.concurrent.CompletionException) && c.getCause() != null) {
            c = c.getCause();
        }
        String msg = c.getClass().getName() + ": " + c.getMessage();
        if (c.getCause() != null && c.getCause() != c) {
            msg += " (caused by " + c.getCause().getClass().getName() + ": " + c.getCause().getMessage() + ")";
        }
        return msg;
    }

    // ---------------------------------------------------------- arguments

    /** Minimal strict "--name value" / "--flag" parser; listOpts may be repeated. */
    private static final class Args {
        private final Map<String, String> values = new HashMap<>();
        private final Map<String, List<String>> lists = new HashMap<>();
        private final Set<String> flags = new HashSet<>();

        Args(String[] args, Set<String> valueOpts, Set<String> flagOpts, Set<String> listOpts) {
            for (int i = 1; i < args.length; i++) {
                String arg = args[i];
                if (!arg.startsWith("--")) {
                    throw new UsageException("unexpected argument '" + arg + "'");
                }
                String name = arg.substring(2);
                String inline = null;
                int eq = name.indexOf('=');
                if (eq >= 0) {
                    inline = name.substring(eq + 1);
                    name = name.substring(0, eq);
                }
                if (flagOpts.contains(name) && inline == null) {
                    flags.add(name);
                } else if (valueOpts.contains(name) || listOpts.contains(name)) {
                    String v = inline;
                    if (v == null) {
                        if (i + 1 >= args.length) {
                            throw new UsageException("--" + name + " needs a value");
                        }
                        v = args[++i];
                    }
                    if (listOpts.contains(name)) {
                        lists.computeIfAbsent(name, k -> new ArrayList<>()).add(v);
                    } else {
                        values.put(name, v);
                    }
                } else {
                    throw new UsageException("unknown option --" + name);
                }
            }
        }

        String optional(String name) {
            return values.get(name);
        }

        /**
         * The KEY=VALUE pairs given with a repeatable option, in command-line
         * order (a later pair for the same key wins). The value may be empty
         * and may itself contain '='; the key may not be empty.
         */
        Map<String, String> properties(String name) {
            Map<String, String> out = new LinkedHashMap<>();
            for (String kv : lists.getOrDefault(name, List.of())) {
                int eq = kv.indexOf('=');
                if (eq <= 0 || kv.substring(0, eq).isBlank()) {
                    throw new UsageException("--" + name + " wants KEY=VALUE, got '" + kv + "'");
                }
                out.put(kv.substring(0, eq).trim(), kv.substring(eq + 1));
            }
            return out;
        }

        String required(String name) {
            String v = values.get(name);
            if (v == null || v.isEmpty()) {
                throw new UsageException("--" + name + " is required");
            }
            return v;
        }

        boolean flag(String name) {
            return flags.contains(name);
        }

        long longValue(String name, Long dflt, long min) {
            String v = values.get(name);
            if (v == null) {
                if (dflt == null) {
                    throw new UsageException("--" + name + " is required");
                }
                return dflt;
            }
            long n;
            try {
                n = Long.parseLong(v);
            } catch (NumberFormatException e) {
                throw new UsageException("--" + name + " must be a number, got '" + v + "'");
            }
            if (n < min) {
                throw new UsageException("--" + name + " must be >= " + min);
            }
            return n;
        }

        String oneOf(String name, String dflt, String... allowed) {
            String v = values.get(name);
            if (v == null) {
                return dflt;
            }
            for (String ok : allowed) {
                if (ok.equals(v)) {
                    return v;
                }
            }
            throw new UsageException("--" + name + " must be one of " + String.join("|", allowed) + ", got '" + v + "'");
        }
    }
}
