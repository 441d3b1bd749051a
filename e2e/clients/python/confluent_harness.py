#!/usr/bin/env python3
"""confluent-kafka (librdkafka) client harness for Strait end-to-end tests.

See harness_common.py (and e2e/clients/README.md) for the command-line
contract. Run with the venv created by setup.sh:

    $REPO/.cache/venv/bin/python e2e/clients/python/confluent_harness.py produce ...

Set HARNESS_DEBUG=1 to turn on librdkafka debug logging (to stderr).
"""

import os
import sys
import time

import harness_common as hc

PROG = "confluent-harness"


def _base_config(bootstrap, client_id):
    conf = {
        "bootstrap.servers": ",".join(hc.brokers(bootstrap)),
        "client.id": client_id,
        "error_cb": _error_cb,
    }
    if not os.environ.get("HARNESS_DEBUG"):
        # librdkafka logs at syslog levels; 5 (notice) hides routine info
        # lines such as KIP-714 telemetry subscription changes.
        conf["log_level"] = 5
    else:
        conf["debug"] = os.environ.get("HARNESS_DEBUG_CONTEXTS", "broker,protocol,msg,cgrp,topic")
    return conf


def _error_cb(err):
    # Most errors reported here are transient (librdkafka retries them);
    # fatal ones are re-raised by the produce/consume loops.
    hc.log(PROG, f"client error: {err}")


def produce(args):
    from confluent_kafka import KafkaException, Producer

    state = {"acked": 0, "errors": []}

    def on_delivery(err, msg):
        if err is not None:
            if len(state["errors"]) < 10:
                state["errors"].append(f"{msg.topic()}[{msg.partition()}]: {err}")
            else:
                state["errors"].append(None)
        else:
            state["acked"] += 1

    conf = _base_config(args.bootstrap, "strait-e2e-confluent-producer")
    conf.update(
        {
            "acks": "all",
            "compression.type": args.compression,
            "enable.idempotence": args.idempotent,
            "linger.ms": 5,
            "message.timeout.ms": 120000,
            "request.timeout.ms": 30000,
        }
    )
    if not args.idempotent:
        # A retried batch must not overtake a later one, or per-key order
        # breaks; with idempotence librdkafka guarantees this itself.
        conf["max.in.flight.requests.per.connection"] = 1
    producer = Producer(conf)

    for i in range(args.count):
        key = hc.record_key(i, args.keys)
        value = hc.record_value(args.prefix, i)
        while True:
            try:
                producer.produce(args.topic, key=key, value=value, on_delivery=on_delivery)
                break
            except BufferError:
                producer.poll(0.1)  # local queue full: serve delivery reports
        producer.poll(0)

    remaining = producer.flush(150)
    if remaining:
        raise RuntimeError(f"{remaining} records still undelivered after flush timeout")
    if state["errors"]:
        shown = [e for e in state["errors"] if e is not None]
        raise KafkaException(
            f"{len(state['errors'])} delivery failures, first: " + "; ".join(shown[:3])
        )
    if state["acked"] != args.count:
        raise RuntimeError(f"acked {state['acked']} of {args.count} records")
    hc.emit_acked(state["acked"])
    return hc.EXIT_OK


def consume(args):
    from confluent_kafka import Consumer, KafkaException, TopicPartition

    conf = _base_config(args.bootstrap, "strait-e2e-confluent-consumer")
    conf.update(
        {
            "group.id": args.group,
            "group.protocol": "classic",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "session.timeout.ms": 30000,
            "heartbeat.interval.ms": 3000,
        }
    )
    consumer = Consumer(conf)
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
            msg = consumer.poll(min(1.0, remaining))
            if msg is None:
                continue
            err = msg.error()
            if err is not None:
                # Non-fatal errors (e.g. a topic whose metadata has not
                # propagated yet) are retried by librdkafka; keep polling
                # until the deadline.
                if err.fatal():
                    raise KafkaException(err)
                hc.log(PROG, f"consumer error (continuing): {err}")
                continue
            hc.emit_record(msg.partition(), msg.offset(), msg.key(), msg.value())
            next_offsets[msg.partition()] = msg.offset() + 1
            received += 1
        sys.stdout.flush()
        if next_offsets:
            parts = [TopicPartition(args.topic, p, o) for p, o in next_offsets.items()]
            results = consumer.commit(offsets=parts, asynchronous=False)
            failed = [tp for tp in results or [] if tp.error is not None]
            if failed:
                raise KafkaException(f"offset commit failed: {failed}")
        committed = True
    finally:
        consumer.close()
    if not committed:
        return hc.EXIT_FAIL
    if received < args.count:
        hc.log(PROG, f"timeout after {args.timeout_ms}ms: received {received} of {args.count} records")
        return hc.EXIT_FAIL
    return hc.EXIT_OK


def main(argv=None):
    args = hc.parse_args("confluent_harness.py", argv)
    try:
        if args.cmd == "produce":
            return produce(args)
        return consume(args)
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        return hc.EXIT_FAIL
    except Exception as e:  # report any client error and fail
        sys.stderr.write(f"error: {type(e).__name__}: {e}\n")
        if os.environ.get("HARNESS_DEBUG"):
            import traceback

            traceback.print_exc()
        return hc.EXIT_FAIL


if __name__ == "__main__":
    sys.exit(main())
