#!/usr/bin/env python3
"""Reads Confluent-framed Avro records of a topic and decodes each value
with confluent-kafka's AvroDeserializer and a schema registry.

The encryption e2e test points it at the backing cluster, past the
gateway, to show that encrypted values are still valid Avro of their
registered schema for any Confluent-compatible consumer:

    avro_raw_reader.py --bootstrap HOST:PORT --topic T --registry URL --count N

stdout: one JSON line per record, {"o": offset, "value": decoded value,
"headers": [header names]}; bytes values are written as latin-1 text.
A record that cannot be decoded ends the run with exit status 1 and the
deserializer's error on stderr.
"""

import argparse
import json
import sys
import time
import uuid

from confluent_kafka import Consumer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext


def _jsonable(v):
    if isinstance(v, bytes):
        return v.decode("latin-1")
    raise TypeError(f"cannot write {type(v).__name__} as JSON")


def main():
    ap = argparse.ArgumentParser(prog="avro-raw-reader")
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--registry", required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--timeout-ms", type=int, default=60000)
    args = ap.parse_args()

    deserialize = AvroDeserializer(SchemaRegistryClient({"url": args.registry}))
    consumer = Consumer({
        "bootstrap.servers": args.bootstrap,
        "group.id": f"avro-raw-reader-{uuid.uuid4()}",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "log_level": 5,
    })
    consumer.subscribe([args.topic])
    deadline = time.monotonic() + args.timeout_ms / 1000
    seen = 0
    try:
        while seen < args.count:
            if time.monotonic() > deadline:
                sys.stderr.write(f"error: read {seen} of {args.count} records of {args.topic}\n")
                return 1
            msg = consumer.poll(1.0)
            if msg is None:
                continue
            if msg.error():
                sys.stderr.write(f"error: consume: {msg.error()}\n")
                return 1
            ctx = SerializationContext(msg.topic(), MessageField.VALUE, msg.headers())
            try:
                value = deserialize(msg.value(), ctx)
            except Exception as e:  # the deserializer's own error is the result
                sys.stderr.write(f"error: offset {msg.offset()}: {type(e).__name__}: {e}\n")
                return 1
            names = [k for k, _ in (msg.headers() or [])]
            print(json.dumps({"o": msg.offset(), "value": value, "headers": names}, default=_jsonable), flush=True)
            seen += 1
    finally:
        consumer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
