"""Shared command-line contract for the Python Kafka client harnesses.

Both kafka_python_harness.py and confluent_harness.py implement:

  produce --bootstrap HOSTS --topic T --count N --prefix P
          [--compression none|gzip|snappy|lz4|zstd] [--idempotent] [--keys K]
          [--property KEY=VALUE]...
  consume --bootstrap HOSTS --topic T --group G --count N [--timeout-ms MS]
          [--property KEY=VALUE]...

--property sets a client configuration property; each harness documents how
it maps KEY=VALUE onto its client. An authentication failure ends the run
with exit status 1 and "error: authentication failed: MESSAGE" on stderr
(raise AuthenticationFailed).

stdout carries only the contract output; diagnostics go to stderr.
"""

import argparse
import json
import sys

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_USAGE = 2

CODECS = ("none", "gzip", "snappy", "lz4", "zstd")


def _positive_int(allow_zero=False):
    def parse(raw):
        try:
            n = int(raw, 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {raw!r}")
        if n < 0 or (n == 0 and not allow_zero):
            raise argparse.ArgumentTypeError(
                f"must be {'non-negative' if allow_zero else 'positive'}: {raw!r}"
            )
        return n

    return parse


class AuthenticationFailed(Exception):
    """The client could not authenticate (SASL or TLS); the message is the
    client's own error text, which includes the broker's message."""


def report_auth_failure(msg):
    sys.stderr.write(f"error: authentication failed: {msg}\n")
    sys.stderr.flush()


def _property(raw):
    key, sep, value = raw.partition("=")
    if not sep or not key.strip() or key != key.lstrip():
        raise argparse.ArgumentTypeError(f"want KEY=VALUE, got {raw!r}")
    return key.strip(), value


def parse_args(prog, argv=None):
    parser = argparse.ArgumentParser(prog=prog, allow_abbrev=False)
    sub = parser.add_subparsers(dest="cmd", required=True, metavar="{produce,consume}")

    p = sub.add_parser("produce", allow_abbrev=False, help="produce N keyed records with acks=all")
    p.add_argument("--bootstrap", required=True, help="comma-separated host:port list")
    p.add_argument("--topic", required=True)
    p.add_argument("--count", required=True, type=_positive_int(allow_zero=True))
    p.add_argument("--prefix", required=True)
    p.add_argument("--compression", default="none", choices=CODECS)
    p.add_argument("--idempotent", action="store_true")
    p.add_argument("--keys", default=8, type=_positive_int())
    p.add_argument("--property", dest="properties", action="append", default=[], type=_property,
                   metavar="KEY=VALUE", help="client configuration property (repeatable)")

    c = sub.add_parser("consume", allow_abbrev=False, help="consume N records with a consumer group")
    c.add_argument("--bootstrap", required=True, help="comma-separated host:port list")
    c.add_argument("--topic", required=True)
    c.add_argument("--group", required=True)
    c.add_argument("--count", required=True, type=_positive_int(allow_zero=True))
    c.add_argument("--timeout-ms", dest="timeout_ms", default=60000, type=_positive_int())
    c.add_argument("--property", dest="properties", action="append", default=[], type=_property,
                   metavar="KEY=VALUE", help="client configuration property (repeatable)")

    return parser.parse_args(argv)


def brokers(bootstrap):
    hosts = [h.strip() for h in bootstrap.split(",") if h.strip()]
    if not hosts:
        die_usage("--bootstrap is empty")
    return hosts


def record_key(i, keys):
    return f"key-{i % keys}"


def record_value(prefix, i):
    return f"{prefix}-{i}"


def _text(b):
    if b is None:
        return None
    if isinstance(b, str):
        return b
    return b.decode("utf-8", errors="replace")


def emit_record(partition, offset, key, value):
    """Write one consumed record as a compact JSON line on stdout."""
    line = json.dumps(
        {"p": partition, "o": offset, "k": _text(key), "v": _text(value)},
        separators=(",", ":"),
        ensure_ascii=False,
    )
    sys.stdout.write(line + "\n")


def emit_acked(n):
    sys.stdout.write(f"acked {n}\n")
    sys.stdout.flush()


def log(prog, msg):
    sys.stderr.write(f"[{prog}] {msg}\n")
    sys.stderr.flush()


def die_usage(msg):
    sys.stderr.write(f"error: {msg}\n")
    sys.exit(EXIT_USAGE)
