#!/usr/bin/env python3
"""Writes spec/vectors/stream-entries.json: stream entry payloads (spec/pubsub.md §5.2).

Each vector: the payload bytes (hex), the payload limit to decode with, and either the items
(hex) it decodes to or "invalid"."""
import json, struct, os

def enc(items):
    out = struct.pack(">H", len(items))
    for item in items:
        out += struct.pack(">I", len(item)) + item
    return out

valid = [
    [b"item", b"tea"],
    [b"message", b"hello, nymbus"],
    [b"", b"\x00\r\n\xff", b"n", bytes(range(256)) + bytes(range(44))],
]
vectors = [{"payload": enc(v).hex(), "maxPayload": 65536, "items": [i.hex() for i in v]} for v in valid]
invalid = [
    ("count 0", struct.pack(">H", 0)),
    ("odd count", enc([b"a", b"b", b"c"])),
    ("count 2 with one item present", struct.pack(">H", 2) + struct.pack(">I", 1) + b"a"),
    ("truncated item", enc([b"ab", b"cd"])[:-1]),
    ("trailing byte", enc([b"a", b"b"]) + b"\xff"),
    ("count 1000 with two items", struct.pack(">H", 1000) + enc([b"a", b"b"])[2:]),
]
for reason, payload in invalid:
    vectors.append({"payload": payload.hex(), "maxPayload": 65536, "invalid": reason})
vectors.append({"payload": enc([b"f", b"x" * 17]).hex(), "maxPayload": 16, "invalid": "item over the payload limit"})
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "stream-entries.json")
with open(path, "w") as f:
    json.dump({"streamEntries": vectors}, f, indent=1)
    f.write("\n")
