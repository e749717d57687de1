#!/usr/bin/env python3
"""Independent generator for spec/vectors/pubsub.json, written from spec/pubsub.md alone.

BLAKE2b (plain, keyed, and as libsodium's crypto_kdf via salt and personalisation) comes from
Python's hashlib; Ed25519 and XChaCha20-Poly1305 from libsodium through ctypes. The Swift tests
check that their implementation produces exactly these bytes and decodes them back. `batches` are
objects of type 1 (spec §5.1): valid ones with their entries, invalid ones every member must refuse.
Run: python3 pubsub_vectors.py > pubsub.json
"""
import ctypes
import ctypes.util
import hashlib
import json
import struct

sodium = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23")
assert sodium.sodium_init() >= 0

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58encode(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def blake2b256(message: bytes, key: bytes = b"") -> bytes:
    return hashlib.blake2b(message, digest_size=32, key=key).digest()


def kdf(master: bytes, subkey_id: int, context: bytes) -> bytes:
    # libsodium crypto_kdf_derive_from_key (spec §1).
    return hashlib.blake2b(b"", digest_size=32, key=master, salt=struct.pack("<Q", subkey_id) + b"\0" * 8,
                           person=context + b"\0" * 8).digest()


def ed25519_keypair(seed: bytes):
    pk, sk = ctypes.create_string_buffer(32), ctypes.create_string_buffer(64)
    assert sodium.crypto_sign_seed_keypair(pk, sk, seed) == 0
    return pk.raw, sk.raw


def ed25519_sign(sk: bytes, message: bytes) -> bytes:
    sig = ctypes.create_string_buffer(64)
    assert sodium.crypto_sign_detached(sig, None, message, ctypes.c_ulonglong(len(message)), sk) == 0
    return sig.raw


def xchacha_seal(key: bytes, nonce: bytes, plaintext: bytes, ad: bytes) -> bytes:
    out = ctypes.create_string_buffer(len(plaintext) + 16)
    out_len = ctypes.c_ulonglong(0)
    assert sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
        out, ctypes.byref(out_len), plaintext, ctypes.c_ulonglong(len(plaintext)), ad, ctypes.c_ulonglong(len(ad)),
        None, nonce, key) == 0
    return out.raw[:out_len.value]


class Topic:
    def __init__(self, secret: bytes, label: bytes, is_public: bool):
        self.secret, self.label, self.is_public = secret, label, is_public
        self.encryption_key = kdf(secret, 1, b"NymbusTp")
        self.membership_seed = kdf(secret, 2, b"NymbusTp")
        self.topic_id, self.membership_sk = ed25519_keypair(self.membership_seed)

    @staticmethod
    def public(name: bytes) -> "Topic":
        return Topic(blake2b256(name, key=b"nymbus public topic v1"), name, True)

    def invite(self) -> str:
        body = bytes([1]) + self.secret + bytes([len(self.label)]) + self.label
        return "nymbus:topic:" + b58encode(body + blake2b256(body)[:4])

    def vector(self):
        return {"name": self.label.decode(), "isPublic": self.is_public, "secret": self.secret.hex(),
                "encryptionKey": self.encryption_key.hex(), "membershipSeed": self.membership_seed.hex(),
                "topicID": self.topic_id.hex(), "invite": self.invite()}


BUCKETS = [1536, 4096] + [16384 * i for i in range(1, 7)]
OVERHEAD = 70 + 16 + 64


def author_key(mode: str, author_secret: bytes, topic: Topic):
    if mode == "none":
        return None
    if mode == "perNode":
        seed = blake2b256(b"nymbus author node v1", key=author_secret)
    else:
        seed = blake2b256(b"nymbus author topic v1" + topic.topic_id, key=author_secret)
    return ed25519_keypair(seed)


def seal(topic: Topic, object_type: int, timestamp: int, nonce: bytes, payload: bytes, author,
         runs=None):
    # runs: [(publisher tag u64, first number u32, entries u16)], flag bit 1 (spec §5,
    # spec/broker.md "Order"): a count byte, then each run.
    header = bytes([1]) + topic.topic_id + struct.pack(">II", object_type, timestamp)
    order_bytes = bytes([len(runs)]) + b"".join(struct.pack(">QIH", *r) for r in runs) if runs else b""
    flags = (1 if author else 0) | (2 if runs else 0)
    plaintext = bytes([flags]) + order_bytes + struct.pack(">I", len(payload)) + payload
    if author:
        pk, sk = author
        signed = (b"nymbus-author-v1" + topic.topic_id + struct.pack(">II", object_type, timestamp) + nonce
                  + order_bytes + payload)
        plaintext += pk + ed25519_sign(sk, signed)
    bucket = next(b for b in BUCKETS if b >= len(plaintext) + OVERHEAD)
    plaintext += b"\0" * (bucket - OVERHEAD - len(plaintext))
    ciphertext = xchacha_seal(topic.encryption_key, nonce, plaintext, header)
    signed_bytes = header + nonce + struct.pack(">I", len(ciphertext)) + ciphertext
    signature = ed25519_sign(topic.membership_sk, signed_bytes)
    # The reserved byte (offset 41, once a hop limit) is always 0.
    obj = header + bytes([0]) + nonce + struct.pack(">I", len(ciphertext)) + ciphertext + signature
    assert len(obj) == bucket
    return plaintext, obj, blake2b256(signed_bytes)


def chat_line(nick: str, text: str, sequence: int) -> bytes:
    n, t = nick.encode(), text.encode()
    return bytes([len(n)]) + n + struct.pack(">H", len(t)) + t + struct.pack(">Q", sequence)


public = Topic.public(b"nymbus/demo")
private = Topic(bytes(range(32)), b"team", False)
author_secret = bytes(range(0x20, 0x40))
nonce = bytes(range(0x40, 0x58))
timestamp = 29_000_000
cases = [
    ("raw bytes, no author, smallest bucket (1536)", "public", 0, b"hello, nymbus", "none"),
    ("custom type 0x1001, per-topic author, private topic", "private", 0x1001, chat_line("ada", "hi team", 7),
     "perTopic"),
    ("2000 raw bytes, per-node author, bucket 4096", "public", 0, bytes(i % 256 for i in range(2000)), "perNode"),
]
objects = []
for comment, which, object_type, payload, mode in cases:
    topic = public if which == "public" else private
    author = author_key(mode, author_secret, topic)
    plaintext, obj, message_id = seal(topic, object_type, timestamp, nonce, payload, author)
    vector = {"comment": comment, "topic": which, "objectType": object_type, "timestamp": timestamp,
              "nonce": nonce.hex(), "payload": payload.hex(), "authorMode": mode, "plaintext": plaintext.hex(),
              "object": obj.hex(), "messageID": message_id.hex()}
    if author:
        vector["authorPublicKey"] = author[0].hex()
    objects.append(vector)



def batch_body(entries, count=None) -> bytes:
    # spec §5.1: count (u16) then each entry as u32 length and bytes.
    body = struct.pack(">H", len(entries) if count is None else count)
    for entry in entries:
        body += struct.pack(">I", len(entry)) + entry
    return body


def lp(entry: bytes) -> bytes:
    return struct.pack(">I", len(entry)) + entry


# (comment, topic, author mode, payload limit, entries if valid, batch payload)
batch_cases = [
    ("valid: 2 entries, public topic, no author", "public", "none", 65536, [b"hello", b"nymbus"], None),
    ("valid: 3 entries (one empty), private topic, per-topic author", "private", "perTopic", 65536,
     [b"first", b"", bytes(i % 256 for i in range(300))], None),
    ("invalid: count 0", "public", "none", 65536, None, struct.pack(">H", 0)),
    ("invalid: count 1 (one payload is a type-0 object)", "public", "none", 65536, None,
     struct.pack(">H", 1) + lp(b"abc")),
    ("invalid: the second entry is truncated", "public", "none", 65536, None,
     struct.pack(">H", 2) + lp(b"abc") + struct.pack(">I", 5) + b"ab"),
    ("invalid: a byte after the last entry", "public", "none", 65536, None,
     struct.pack(">H", 2) + lp(b"abc") + lp(b"def") + b"\xff"),
    ("invalid: count 1000, two entries present", "public", "none", 65536, None,
     struct.pack(">H", 1000) + lp(b"abc") + lp(b"def")),
    ("invalid: an entry of 17 bytes over a payload limit of 16", "public", "none", 16, None,
     struct.pack(">H", 2) + lp(bytes(range(17))) + lp(b"x")),
]
batches = []
for comment, which, mode, max_payload, entries, body in batch_cases:
    topic = public if which == "public" else private
    author = author_key(mode, author_secret, topic)
    if entries is not None:
        body = batch_body(entries)
    plaintext, obj, message_id = seal(topic, 1, timestamp, nonce, body, author)
    vector = {"comment": comment, "topic": which, "objectType": 1, "timestamp": timestamp,
              "nonce": nonce.hex(), "authorMode": mode, "maxPayload": max_payload, "valid": entries is not None,
              "body": body.hex(), "plaintext": plaintext.hex(), "object": obj.hex(), "messageID": message_id.hex()}
    if entries is not None:
        vector["entries"] = [e.hex() for e in entries]
    if author:
        vector["authorPublicKey"] = author[0].hex()
    batches.append(vector)

# Objects in publishers' order (flag bit 1): (comment, topic, type, author mode, runs, payload or entries).
ordered_cases = [
    ("raw bytes in order, no author, public topic", "public", 0, "none", [(0x0123456789ABCDEF, 0, 1)], b"first"),
    ("raw bytes in order, per-topic author (the runs are signed), private topic", "private", 0, "perTopic",
     [(0xFEDCBA9876543210, 41, 1)], b"forty-one"),
    ("a batch of one publisher: its entries are numbers 7, 8, 9", "public", 1, "none",
     [(0x00000000000000FF, 7, 3)], [b"a", b"b", b"c"]),
    ("a batch of two publishers: 5, 6 of one, then 0 of another", "public", 1, "none",
     [(0x1111111111111111, 5, 2), (0x2222222222222222, 0, 1)], [b"x5", b"x6", b"y0"]),
]
ordered = []
for comment, which, object_type, mode, runs, content in ordered_cases:
    topic = public if which == "public" else private
    author = author_key(mode, author_secret, topic)
    payload = batch_body(content) if object_type == 1 else content
    plaintext, obj, message_id = seal(topic, object_type, timestamp, nonce, payload, author, runs)
    vector = {"comment": comment, "topic": which, "objectType": object_type, "timestamp": timestamp,
              "nonce": nonce.hex(), "authorMode": mode,
              "runs": [{"publisherTag": "%016x" % t, "number": n, "count": c} for t, n, c in runs],
              "payload": payload.hex(), "plaintext": plaintext.hex(), "object": obj.hex(),
              "messageID": message_id.hex()}
    if object_type == 1:
        vector["entries"] = [e.hex() for e in content]
    if author:
        vector["authorPublicKey"] = author[0].hex()
    ordered.append(vector)

print(json.dumps({"description": "Nymbus pub/sub vectors (spec/pubsub.md). All byte strings are lower-case hex.",
                  "publicTopic": public.vector(), "privateTopic": private.vector(),
                  "authorSecret": author_secret.hex(), "objects": objects, "batches": batches,
                  "ordered": ordered},
                 indent=2, sort_keys=True))
