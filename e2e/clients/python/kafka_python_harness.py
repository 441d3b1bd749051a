#!/usr/bin/env python3
"""kafka-python client harness for Strait end-to-end tests.

See harness_common.py (and e2e/clients/README.md) for the command-line
contract. Run with the venv created by setup.sh:

    $REPO/.cache/venv/bin/python e2e/clients/python/kafka_python_harness.py produce ...
"""

import logging
import os
import sys
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
    producer = KafkaProducer(
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

    consumer = KafkaConsumer(
        bootstrap_servers=hc.brokers(args.bootstrap),
        client_id="strait-e2e-kafka-python-consumer",
        group_id=args.group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=30000,
        heartbeat_interval_ms=3000,
        request_timeout_ms=40000,
    )
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
