#!/usr/bin/env python3
"""confluent-kafka (librdkafka) client harness for Strait end-to-end tests.

See harness_common.py (and e2e/clients/README.md) for the command-line
contract. Run with the venv created by setup.sh:

    $REPO/.cache/venv/bin/python e2e/clients/python/confluent_harness.py produce ...

--property KEY=VALUE (repeatable) puts KEY=VALUE into the librdkafka
configuration dict after the harness's own settings (so it overrides them);
KEY is a librdkafka property name, VALUE is passed as a string.

librdkafka reports authentication failures (SASL failures, TLS handshake
failures) through the error callback and keeps reconnecting; the harness
stops at the first one and exits 1 with "error: authentication failed: ...".

Set HARNESS_DEBUG=1 to turn on librdkafka debug logging (to stderr).
"""

import os
import sys
import time

import harness_common as hc

PROG = "confluent-harness"


def _base_config(bootstrap, client_id, errors):
    conf = {
        "bootstrap.servers": ",".join(hc.brokers(bootstrap)),
        "client.id": client_id,
        "error_cb": errors,
    }
    if not os.environ.get("HARNESS_DEBUG"):
        # librdkafka logs at syslog levels; 5 (notice) hides routine info
        # lines such as KIP-714 telemetry subscription changes.
        conf["log_level"] = 5
    else:
        conf["debug"] = os.environ.get("HARNESS_DEBUG_CONTEXTS", "broker,protocol,msg,cgrp,topic")
    return conf


def _is_auth_failure(err):
    from confluent_kafka import KafkaError

    if err.code() == KafkaError._AUTHENTICATION:
        return True
    # A failed TLS handshake (e.g. an untrusted broker certificate) is what
    # the Java client reports as SslAuthenticationException.
    return err.code() == KafkaError._SSL and "handshake failed" in (err.str() or "")


class _ErrorCallback:
    """librdkafka's error_cb. Most errors reported here are transient
    (librdkafka retries them); fatal ones are re-raised by the
    produce/consume loops, and an authentication failure by check()."""

    def __init__(self):
        self.auth_failure = None

    def __call__(self, err):
        hc.log(PROG, f"client error: {err}")
        if self.auth_failure is None and _is_auth_failure(err):
            self.auth_failure = err

    def check(self):
        if self.auth_failure is not None:
            raise hc.AuthenticationFailed(self.auth_failure.str())


def _apply_properties(conf, args):
    for key, value in args.properties:
        conf[key] = value


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

    errors = _ErrorCallback()
    conf = _base_config(args.bootstrap, "strait-e2e-confluent-producer", errors)
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
    _apply_properties(conf, args)
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
                errors.check()
        producer.poll(0)
        errors.check()

    # flush() in short steps so that an authentication failure ends the run
    # at once instead of after message.timeout.ms.
    deadline = time.monotonic() + 150
    while True:
        remaining = producer.flush(min(0.5, max(0.0, deadline - time.monotonic())))
        errors.check()
        if remaining == 0 or time.monotonic() >= deadline:
            break
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

    errors = _ErrorCallback()
    conf = _base_config(args.bootstrap, "strait-e2e-confluent-consumer", errors)
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
    _apply_properties(conf, args)
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
            errors.check()
            if msg is None:
                continue
            err = msg.error()
            if err is not None:
                # Non-fatal errors (e.g. a topic whose metadata has not
                # propagated yet) are retried by librdkafka; keep polling
                # until the deadline. Authentication failures are not.
                if err.fatal():
                    raise KafkaException(err)
                if _is_auth_failure(err):
                    raise hc.AuthenticationFailed(err.str())
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
    except hc.AuthenticationFailed as e:
        hc.report_auth_failure(e)
        return hc.EXIT_FAIL
    except Exception as e:  # report any client error and fail
        sys.stderr.write(f"error: {type(e).__name__}: {e}\n")
        if os.environ.get("HARNESS_DEBUG"):
            import traceback

            traceback.print_exc()
        return hc.EXIT_FAIL


if __name__ == "__main__":
    sys.exit(main())
