#!/usr/bin/env python3
"""Check a harness `consume` output against what `produce` wrote.

    check_records.py --prefix P --count N [--keys K] [FILE]   (default: stdin)

Verifies, for records produced by one `produce --prefix P --count N --keys K`
run and read back by `consume`:
  * exactly N JSON lines, each {"p","o","k","v"};
  * every value P-0 .. P-(N-1) appears exactly once, with key key-(i mod K);
  * offsets strictly increase per partition in output order;
  * each key lives on one partition, and along it the sequence numbers i
    increase with the offset (per-key order).
Exit 0 and one "OK ..." line on success; exit 1 with the problems otherwise.
Standard library only; runs with any Python 3.8+.
"""

import argparse
import collections
import json
import sys


def check(lines, prefix, count, keys):
    problems = []
    records = []
    for n, line in enumerate(lines, 1):
        line = line.strip()
        if not line:
            continue
        try:
            rec = json.loads(line)
            records.append((int(rec["p"]), int(rec["o"]), rec["k"], rec["v"]))
        except (ValueError, KeyError, TypeError) as e:
            problems.append(f"line {n}: not a record ({e}): {line[:120]}")
    if len(records) != count:
        problems.append(f"got {len(records)} records, want {count}")

    seen = collections.Counter()
    last_offset = {}
    by_key = collections.defaultdict(list)
    key_parts = collections.defaultdict(set)
    head = prefix + "-"
    for p, o, k, v in records:
        if o <= last_offset.get(p, -1):
            problems.append(f"partition {p}: offset {o} after {last_offset[p]}")
        last_offset[p] = max(o, last_offset.get(p, -1))
        if not isinstance(v, str) or not v.startswith(head) or not v[len(head):].isdigit():
            problems.append(f"p{p}@{o}: unexpected value {v!r}")
            continue
        i = int(v[len(head):])
        seen[i] += 1
        if i >= count:
            problems.append(f"p{p}@{o}: value {v!r} beyond --count")
        if k != f"key-{i % keys}":
            problems.append(f"p{p}@{o}: value {v!r} has key {k!r}, want 'key-{i % keys}'")
        by_key[k].append((p, o, i))
        key_parts[k].add(p)

    missing = [i for i in range(count) if seen[i] == 0]
    dups = sorted(i for i, c in seen.items() if c > 1)
    if missing:
        problems.append(f"{len(missing)} values missing, e.g. {[f'{head}{i}' for i in missing[:5]]}")
    if dups:
        problems.append(f"{len(dups)} values duplicated, e.g. {[f'{head}{i}' for i in dups[:5]]}")
    for k, parts in sorted(key_parts.items(), key=lambda kv: str(kv[0])):
        if len(parts) > 1:
            problems.append(f"key {k!r} spread over partitions {sorted(parts)}")
    for k, entries in by_key.items():
        entries.sort()
        for (p1, o1, i1), (p2, o2, i2) in zip(entries, entries[1:]):
            if p1 == p2 and i2 <= i1:
                problems.append(f"key {k!r} out of order on p{p1}: {head}{i1}@{o1} then {head}{i2}@{o2}")
                break
    return problems, records


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--prefix", required=True)
    ap.add_argument("--count", required=True, type=int)
    ap.add_argument("--keys", default=8, type=int)
    ap.add_argument("file", nargs="?")
    args = ap.parse_args()
    if args.file:
        with open(args.file, encoding="utf-8") as f:
            lines = f.readlines()
    else:
        lines = sys.stdin.readlines()
    problems, records = check(lines, args.prefix, args.count, args.keys)
    if problems:
        for p in problems[:50]:
            print(f"FAIL: {p}")
        if len(problems) > 50:
            print(f"FAIL: ... {len(problems) - 50} more")
        return 1
    parts = sorted({p for p, _, _, _ in records})
    print(f"OK {len(records)} records, prefix {args.prefix!r}, partitions {parts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
