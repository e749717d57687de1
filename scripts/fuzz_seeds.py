#!/usr/bin/env python3
"""Writes a seed corpus per fuzz target from the spec's vectors: python3 fuzz_seeds.py OUT_DIR.

Every `valid`/`invalid` line of spec/vectors/*.txt becomes one seed file for the target that owns
that vector file (wire.txt -> wire, ...); extra seeds for targets without vectors are written here.
"""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = sys.argv[1]
TARGET_OF = {"wire.txt": "wire"}
EXTRA = {
    "resp": [b"*1\r\n$4\r\nPING\r\n", b"*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$5\r\nhello\r\n", b"PING\r\n",
             b"*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$1\r\n*\r\n$1\r\nf\r\n$5\r\nhello\r\n",
             b"*2\r\n$9\r\nSUBSCRIBE\r\n$1\r\na\r\n", b'SET "a b" c\r\n'],
    "resp-reply": [b"$-1\r\n", b":12\r\n", b"+OK\r\n", b"-ERR x\r\n", b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
                   b"%1\r\n+server\r\n+nymbus\r\n", b">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nb\r\n", b"_\r\n", b",1.5\r\n", b"#t\r\n"],
}

def write(target, name, data):
    directory = os.path.join(OUT, target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)

vectors = os.path.join(ROOT, "spec", "vectors")
for file_name, target in TARGET_OF.items():
    path = os.path.join(vectors, file_name)
    if not os.path.exists(path):
        continue
    for line in open(path):
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        data = parts[-1] if len(parts) > 2 else ""
        try:
            write(target, parts[1], bytes.fromhex(data))
        except ValueError:
            write(target, parts[1], b"")
# Objects from spec/vectors/pubsub.json seed the object target.
import json
pubsub = os.path.join(vectors, "pubsub.json")
if os.path.exists(pubsub):
    data = json.load(open(pubsub))
    for i, entry in enumerate(data.get("objects", [])):
        if "object" in entry:
            write("object", f"vector-{i}", bytes.fromhex(entry["object"]))
for target, seeds in EXTRA.items():
    for i, seed in enumerate(seeds):
        write(target, f"seed-{i}", seed)
