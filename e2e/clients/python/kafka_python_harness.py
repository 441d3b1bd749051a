#!/usr/bin/env python3
"""kafka-python client harness for Strait end-to-end tests.

See harness_common.py (and e2e/clients/README.md) for the command-line
contract. Run with the venv created by setup.sh:

    $REPO/.cache/venv/bin/python e2e/clients/python/kafka_python_harness.py produce ...

--property KEY=VALUE (repeatable): kafka-python takes keyword arguments, not
properties. KEY is a Java-style dotted name (security.protocol,
sasl.mechanism, sasl.plain.username, sasl.plain.password, ssl.cafile, ...);
'.' is replaced by '_' and the result must be a keyword argument that
KafkaProducer (produce) or KafkaConsumer (consume) knows and that takes a
plain value, otherwise the harness exits 2 naming the key. VALUE is converted
to the type of the argument's default (bool: true/false, numbers; acks also
takes "all"; api_version "X.Y[.Z]" becomes a tuple), else kept as a string.
Properties are applied after the harness's own arguments and override them.

kafka-python logs a failed SASL authentication and then reconnects for ever;
the producer would block in send() for max_block_ms. A logging handler spots
the failure and the harness exits 1 with "error: authentication failed: ..."
(see _AuthFailureWatch).
"""

import logging
import os
import re
import ssl
import sys
import threading
import time

import harness_common as hc

PROG = "kafka-python-harness"


def _setup_logging():
    level = logging.DEBUG if os.environ.get("HARNESS_DEBUG") else logging.WARNING
    logging.basicConfig(
        stream=sys.stderr,
        level=level,
        format="[kafka-python %(levelname)s] %(name)s: %(message)s",
    )
    logging.getLogger("kafka").addHandler(_auth_watch)


# Keyword arguments that take objects (serializers, callbacks, classes, SSL
# contexts, ...) and so cannot be given as KEY=VALUE text.
_OBJECT_ARGS = {
    "key_serializer", "value_serializer", "key_deserializer", "value_deserializer",
    "partitioner", "ssl_context", "selector", "sasl_oauth_token_provider", "kafka_client",
    "metric_reporters", "default_offset_commit_callback", "partition_assignment_strategy",
    "socket_options", "bootstrap_topics_filter",
}
# Arguments whose default is None but which want a number.
_INT_ARGS = {"receive_buffer_bytes", "send_buffer_bytes"}


def _kwargs_from_properties(properties, defaults):
    """Maps --property KEY=VALUE pairs onto kafka-python keyword arguments."""
    kwargs = {}
    for key, raw in properties:
        name = key.replace(".", "_")
        if name not in defaults or name in _OBJECT_ARGS:
            hc.die_usage(
                f"--property {key}: kafka-python has no plain-valued option {name!r} "
                "(KEY is a Java-style name, '.' is replaced by '_')"
            )
        default = defaults[name]
        try:
            if isinstance(default, bool):
                if raw.lower() not in ("true", "false"):
                    raise ValueError("want true or false")
                value = raw.lower() == "true"
            elif name == "acks" and raw == "all":
                value = raw
            elif isinstance(default, int) or name in _INT_ARGS:
                value = int(raw, 10)
            elif isinstance(default, float):
                value = int(raw, 10) if re.fullmatch(r"-?[0-9]+", raw) else float(raw)
            elif name == "api_version":
                value = tuple(int(part, 10) for part in raw.split("."))
            else:
                value = raw
        except ValueError as e:
            hc.die_usage(f"--property {key}: bad value {raw!r}: {e}")
        kwargs[name] = value
    return kwargs


class _AuthFailureWatch(logging.Handler):
    """Catches kafka-python's log records about a failed authentication.

    kafka.conn logs "SaslAuthenticate error: SaslAuthenticationFailedError
    (BROKER MESSAGE)" (or closes the connection with such an error) and the
    client then reconnects; nothing is raised to the caller. The consumer
    loop calls check() after each poll. The producer does its I/O in its
    sender thread while send() blocks the main thread for up to
    max_block_ms, so a watchdog thread reports the failure and ends the
    process (os._exit) if the main thread has not finished by itself
    within grace seconds.
    """

    PATTERN = re.compile(
        r"SaslAuthenticat\w*Error|SaslAuthenticate error|UnsupportedSaslMechanism"
        r"|Failed to authenticate via SASL|CERTIFICATE_VERIFY_FAILED|SSLCertVerificationError"
    )

    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.message = None
        self.event = threading.Event()

    def emit(self, record):
        if self.event.is_set():
            return
        try:
            text = record.getMessage()
        except Exception:
            return
        if record.exc_info and record.exc_info[1] is not None:
            text += f" ({type(record.exc_info[1]).__name__}: {record.exc_info[1]})"
        if self.PATTERN.search(text):
            # "<BrokerConnection ... host=H:P ... [ADDR]>: TEXT" becomes
            # "H:P: TEXT", also dropping connection reprs inside TEXT.
            m = re.match(r"<BrokerConnection .*?host=(\S+)", text)
            text = re.sub(r"<BrokerConnection .*?\]>(: )?", "", text).strip().rstrip(":")
            self.message = f"{m.group(1)}: {text}" if m else text
            self.event.set()

    def check(self):
        if self.message is not None:
            raise hc.AuthenticationFailed(self.message)

    def start_watchdog(self, grace):
        def run():
            self.event.wait()
            time.sleep(grace)
            sys.stdout.flush()
            hc.report_auth_failure(self.message)
            os._exit(hc.EXIT_FAIL)

        threading.Thread(target=run, name="auth-watchdog", daemon=True).start()


_auth_watch = _AuthFailureWatch()


def _check_codec(codec):
    from kafka import codec as kcodec

    available = {
        "none": True,
        "gzip": kcodec.has_gzip(),
        "snappy": kcodec.has_snappy(),
        "lz4": kcodec.has_lz4(),
        "zstd": kcodec.has_zstd(),
    }
    if not available[codec]:
        sys.stderr.write(
            f"error: compression {codec} unavailable: its Python codec library is not "
            "installed (run e2e/clients/python/setup.sh)\n"
        )
        sys.exit(hc.EXIT_USAGE)


def produce(args):
    from kafka import KafkaProducer

    _check_codec(args.compression)
    props = _kwargs_from_properties(args.properties, KafkaProducer.DEFAULT_CONFIG)
    _auth_watch.start_watchdog(grace=0)
    kwargs = dict(
        bootstrap_servers=hc.brokers(args.bootstrap),
        client_id="strait-e2e-kafka-python-producer",
        acks="all",
        compression_type=None if args.compression == "none" else args.compression,
        enable_idempotence=args.idempotent,
        # kafka-python requires a single in-flight request for idempotence;
        # without idempotence it also keeps retried batches from overtaking
        # later ones, so per-key order holds either way.
        max_in_flight_requests_per_connection=1,
        linger_ms=5,
        delivery_timeout_ms=120000,
        request_timeout_ms=30000,
    )
    kwargs.update(props)
    producer = KafkaProducer(**kwargs)
    acked = 0
    try:
        futures = []
        for i in range(args.count):
            futures.append(
                producer.send(
                    args.topic,
                    key=hc.record_key(i, args.keys).encode(),
                    value=hc.record_value(args.prefix, i).encode(),
                )
            )
        producer.flush()
        for fut in futures:
            # Raises the delivery error, if any, for this record.
            fut.get(timeout=150)
            acked += 1
    finally:
        producer.close(timeout=30)
    if acked != args.count:
        raise RuntimeError(f"acked {acked} of {args.count} records")
    hc.emit_acked(acked)
    return hc.EXIT_OK


def consume(args):
    from kafka import KafkaConsumer, TopicPartition
    from kafka.structs import OffsetAndMetadata

    props = _kwargs_from_properties(args.properties, KafkaConsumer.DEFAULT_CONFIG)
    # The poll loop notices a failure itself; the watchdog only covers a main
    # thread stuck elsewhere (constructor, commit, close).
    _auth_watch.start_watchdog(grace=10)
    kwargs = dict(
        bootstrap_servers=hc.brokers(args.bootstrap),
        client_id="strait-e2e-kafka-python-consumer",
        group_id=args.group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=30000,
        heartbeat_interval_ms=3000,
        request_timeout_ms=40000,
    )
    kwargs.update(props)
    consumer = KafkaConsumer(**kwargs)
    received = 0
    next_offsets = {}  # partition -> last delivered offset + 1
    deadline = time.monotonic() + args.timeout_ms / 1000.0
    committed = False
    try:
        consumer.subscribe([args.topic])
        while received < args.count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            batch = consumer.poll(timeout_ms=int(min(1.0, remaining) * 1000))
            _auth_watch.check()
            for tp, records in batch.items():
                for rec in records:
                    if received >= args.count:
                        break
                    hc.emit_record(rec.partition, rec.offset, rec.key, rec.value)
                    next_offsets[rec.partition] = rec.offset + 1
                    received += 1
        sys.stdout.flush()
        if next_offsets:
            consumer.commit(
                {
                    TopicPartition(args.topic, p): OffsetAndMetadata(o, "", -1)
                    for p, o in next_offsets.items()
                }
            )
        committed = True
    finally:
        consumer.close(autocommit=False)
    if not committed:
        return hc.EXIT_FAIL
    if received < args.count:
        hc.log(PROG, f"timeout after {args.timeout_ms}ms: received {received} of {args.count} records")
        return hc.EXIT_FAIL
    return hc.EXIT_OK


def main(argv=None):
    args = hc.parse_args("kafka_python_harness.py", argv)
    _setup_logging()
    try:
        if args.cmd == "produce":
            return produce(args)
        return consume(args)
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        return hc.EXIT_FAIL
    except hc.AuthenticationFailed as e:
        hc.report_auth_failure(e)
        return hc.EXIT_FAIL
    except ssl.SSLError as e:
        # A failed TLS handshake (e.g. an untrusted broker certificate) is
        # raised to the caller; the Java client calls it SslAuthenticationException.
        hc.report_auth_failure(f"{type(e).__name__}: {e}")
        return hc.EXIT_FAIL
    except Exception as e:  # report any client error and fail
        msg = str(e)
        name = type(e).__name__
        sys.stderr.write(f"error: {msg if msg.startswith(name) else name + ': ' + msg}\n")
        if os.environ.get("HARNESS_DEBUG"):
            import traceback

            traceback.print_exc()
        return hc.EXIT_FAIL


if __name__ == "__main__":
    sys.exit(main())
