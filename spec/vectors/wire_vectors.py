#!/usr/bin/env python3
"""Independent generator for spec/vectors/wire.txt, written from spec/wire.md alone.

The Swift tests decode every vector and re-encode the value they expect, so the Swift codec and
this second implementation of the spec must agree byte for byte. Run: python3 wire_vectors.py > wire.txt
"""
import struct

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

def b58decode(s: str) -> bytes:
    n = 0
    for c in s:
        n = n * 58 + B58.index(c)
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\x00" * (len(s) - len(s.lstrip("1"))) + raw

def address(s: str) -> bytes:
    client, gateway = s.split("@")
    identity, encryption = client.split(".")
    out = b58decode(identity) + b58decode(encryption) + b58decode(gateway)
    assert len(out) == 96
    return out

# The example address from nym-client's own tests (NYM-CLIENT.md section 4).
ADDR1 = address("CytBseW6yFXUMzz4SGAKdNLGR7q3sJLLYxyBGvutNEQV.4QXYyEVc5fUDjmmi8PrHN9tdUFV4PCvSJE1278cHyvoe"
                "@4sBbL1ngf1vtNqykydQKTFh26sQCw888GpUqvPvyNB4f")
# RFC 8032 test keys 1 and 2 as identity and gateway, 0x42 bytes as the encryption key.
ADDR2 = (bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a") + b"\x42" * 32 +
         bytes.fromhex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"))
SESSION = bytes(range(16))
COMMANDS = dict(version=1, verack=2, ping=3, pong=4, getaddr=5, addr=6, reject=7, bye=8, object=0x10, custom=0x11,
                inv=0x12, getdata=0x13, prune=0x14, graft=0x15, syncrange=0x18, syncget=0x19, syncobject=0x1A)

def envelope(command: str, payload: bytes, session: bytes = SESSION) -> bytes:
    return b"NYMB" + bytes([1, COMMANDS[command]]) + session + struct.pack(">I", len(payload)) + payload

def short_string(s: str) -> bytes:
    raw = s.encode()
    return bytes([len(raw)]) + raw

def version(services, timestamp, nonce, agent, addr):
    body = struct.pack(">HQqQ", 1, services, timestamp, nonce) + short_string(agent)
    return body + (b"\x01" + addr if addr else b"\x00")

def inventory(ids):
    """inv, getdata and graft: u16 count (1...500; graft 0...500), then count 32-byte ids (graft: after its u8 stripe mask)."""
    return struct.pack(">H", len(ids)) + b"".join(ids)

INFINITY = 0xFFFFFFFF

def syncrange(round_, is_reply, ranges):
    """syncrange: u16 round, u8 isReply, u16 count, then per range: u32 bound timestamp, u8 prefix
    length, prefix, u8 mode (0 skip, 1 fingerprint: 16 bytes, 2 idList: u16 count + 32-byte ids)."""
    out = struct.pack(">HBH", round_, is_reply, len(ranges))
    for (timestamp, prefix, mode, body) in ranges:
        out += struct.pack(">IB", timestamp, len(prefix)) + prefix + bytes([mode])
        if mode == 1:
            assert len(body) == 16
            out += body
        elif mode == 2:
            out += struct.pack(">H", len(body)) + b"".join(body)
    return out

FP = bytes(range(0x60, 0x70))

# Message ids are BLAKE2b-256 digests; any 32 bytes will do here.
ID1 = bytes(range(0x20, 0x40))
ID2 = bytes([0xff] * 32)
ID3 = bytes(32)

valid = [
    ("version-visible", envelope("version", version(3, 1764000000, 0x0102030405060708, "/nymbus:0.1/", ADDR1))),
    ("version-hidden", envelope("version", version(1, 1764000000, 0xA1A2A3A4A5A6A7A8, "/nymbus:0.1/", None))),
    ("verack", envelope("verack", struct.pack(">Q", 0x0102030405060708))),
    ("ping", envelope("ping", struct.pack(">Q", 0x1122334455667788))),
    ("pong", envelope("pong", struct.pack(">Q", 0x1122334455667788))),
    ("getaddr", envelope("getaddr", b"")),
    ("addr-empty", envelope("addr", struct.pack(">H", 0))),
    ("addr-two", envelope("addr", struct.pack(">H", 2) + ADDR1 + struct.pack(">IQ", 1764000000, 3)
                          + ADDR2 + struct.pack(">IQ", 1763999400, 1))),
    ("reject", envelope("reject", bytes([1, 0x06]) + short_string("addr has 1001 entries"))),
    ("bye", envelope("bye", bytes([4]) + short_string("flood"))),
    ("object", envelope("object", bytes.fromhex("deadbeef"))),
    ("custom", envelope("custom", struct.pack(">I", 0x00010000) + b"hello")),
    ("inv-one", envelope("inv", inventory([ID1]))),
    ("inv-two", envelope("inv", inventory([ID1, ID2]))),
    ("getdata-one", envelope("getdata", inventory([ID2]))),
    ("getdata-three", envelope("getdata", inventory([ID2, ID1, ID3]))),
    ("prune", envelope("prune", bytes([0x01]))),
    ("prune-both", envelope("prune", bytes([0x03]))),
    ("graft-empty", envelope("graft", bytes([0x02]) + struct.pack(">H", 0))),
    ("graft-two", envelope("graft", bytes([0x01]) + inventory([ID3, ID1]))),
    ("syncrange-question", envelope("syncrange", syncrange(1, 0, [
        (29000000, b"", 0, None), (29000100, bytes([0x20, 0x21]), 1, FP), (INFINITY, b"", 2, [ID1, ID2])]))),
    ("syncrange-done", envelope("syncrange", syncrange(7, 1, []))),
    ("syncrange-reply", envelope("syncrange", syncrange(2, 1, [(29000050, b"", 2, []), (INFINITY, b"", 0, None)]))),
    ("syncget-two", envelope("syncget", inventory([ID2, ID1]))),
    ("syncobject", envelope("syncobject", bytes.fromhex("cafe"))),
]

ping = envelope("ping", struct.pack(">Q", 1))
def with_payload_length(env: bytes, length: int) -> bytes:
    return env[:22] + struct.pack(">I", length) + env[26:]

invalid = [
    ("empty", b"", "truncated"),
    ("short-header", ping[:25], "truncated"),
    ("bad-magic", b"NYMX" + ping[4:], "badMagic"),
    ("wire-version-2", ping[:4] + b"\x02" + ping[5:], "unsupportedVersion"),
    ("unknown-command", ping[:5] + b"\x7f" + ping[6:], "unknownCommand"),
    ("payload-over-limit", with_payload_length(ping, 131073), "lengthOverLimit"),
    ("payload-truncated", ping[:-1], "truncated"),
    ("trailing-bytes", ping + b"\x00", "trailingBytes"),
    ("length-says-more-than-message", with_payload_length(ping, 9), "truncated"),
    ("ping-payload-with-extra", with_payload_length(ping + b"\x00", 9), "trailingBytes"),
    # The count check fires before anything is read or allocated: the payload is just the count.
    ("addr-1001-entries", envelope("addr", struct.pack(">H", 1001)), "lengthOverLimit"),
    ("addr-count-lies", envelope("addr", struct.pack(">H", 3) + ADDR1 + struct.pack(">IQ", 0, 0)), "truncated"),
    ("user-agent-65", envelope("version", struct.pack(">HQqQ", 1, 1, 0, 0) + bytes([65]) + b"a" * 65 + b"\x00"),
        "lengthOverLimit"),
    ("user-agent-bad-utf8", envelope("version", struct.pack(">HQqQ", 1, 1, 0, 0) + bytes([2]) + b"\xc3\x28" + b"\x00"),
        "invalidUTF8"),
    ("version-address-flag-2", envelope("version", struct.pack(">HQqQ", 1, 1, 0, 0) + b"\x00" + b"\x02"),
        "invalidValue"),
    ("version-address-not-a-point", envelope("version", struct.pack(">HQqQ", 1, 1, 0, 0) + b"\x00" + b"\x01"
        + b"\x02" + b"\x00" * 31 + b"\x42" * 32 + ADDR1[64:]), "invalidValue"),
    ("object-empty", envelope("object", b""), "invalidValue"),
    ("inv-count-0", envelope("inv", struct.pack(">H", 0)), "invalidValue"),
    ("getdata-count-0", envelope("getdata", struct.pack(">H", 0)), "invalidValue"),
    # Over the limit: refused from the count alone (the ids are not there and never read).
    ("inv-501-ids", envelope("inv", struct.pack(">H", 501)), "lengthOverLimit"),
    ("getdata-501-ids", envelope("getdata", struct.pack(">H", 501)), "lengthOverLimit"),
    ("inv-count-lies", envelope("inv", struct.pack(">H", 2) + ID1), "truncated"),
    ("getdata-short-id", envelope("getdata", struct.pack(">H", 1) + ID1[:31]), "truncated"),
    ("inv-extra-byte", envelope("inv", inventory([ID1]) + b"\x00"), "trailingBytes"),
    ("getdata-no-count", envelope("getdata", b"\x01"), "truncated"),
    ("prune-no-stripes", envelope("prune", b""), "truncated"),
    ("prune-stripe-mask-zero", envelope("prune", b"\x00"), "invalidValue"),
    ("prune-extra-byte", envelope("prune", b"\x01\x00"), "trailingBytes"),
    ("graft-no-stripes", envelope("graft", b""), "truncated"),
    ("graft-stripe-mask-zero", envelope("graft", b"\x00" + inventory([ID1])), "invalidValue"),
    ("graft-no-count", envelope("graft", b"\x01"), "truncated"),
    ("graft-501-ids", envelope("graft", b"\x01" + struct.pack(">H", 501)), "lengthOverLimit"),
    ("graft-count-lies", envelope("graft", b"\x01" + struct.pack(">H", 2) + ID1), "truncated"),
    ("graft-extra-byte", envelope("graft", b"\x01" + inventory([ID1]) + b"\x00"), "trailingBytes"),
    ("syncrange-reply-flag-2", envelope("syncrange", struct.pack(">HBH", 1, 2, 0)), "invalidValue"),
    ("syncrange-513-ranges", envelope("syncrange", struct.pack(">HBH", 1, 0, 513)), "lengthOverLimit"),
    ("syncrange-count-lies", envelope("syncrange", struct.pack(">HBH", 1, 0, 2) + struct.pack(">IBB", INFINITY, 0, 0)),
        "truncated"),
    ("syncrange-prefix-33", envelope("syncrange", struct.pack(">HBH", 1, 0, 1) + struct.pack(">IB", 5, 33) + b"\x00" * 34),
        "invalidValue"),
    ("syncrange-infinity-prefix", envelope("syncrange", struct.pack(">HBH", 1, 0, 1) + struct.pack(">IB", INFINITY, 1)
        + b"\x00\x00"), "invalidValue"),
    ("syncrange-not-ascending", envelope("syncrange", syncrange(1, 0, [(20, b"", 0, None), (20, b"", 0, None),
        (INFINITY, b"", 0, None)])), "invalidValue"),
    ("syncrange-no-infinity", envelope("syncrange", syncrange(1, 0, [(20, b"", 0, None)])), "invalidValue"),
    ("syncrange-mode-3", envelope("syncrange", struct.pack(">HBH", 1, 0, 1) + struct.pack(">IBB", INFINITY, 0, 3)),
        "invalidValue"),
    ("syncrange-501-ids", envelope("syncrange", struct.pack(">HBH", 1, 0, 1) + struct.pack(">IBBH", INFINITY, 0, 2, 501)),
        "lengthOverLimit"),
    ("syncrange-extra-byte", envelope("syncrange", syncrange(7, 1, []) + b"\x00"), "trailingBytes"),
    ("syncget-count-0", envelope("syncget", struct.pack(">H", 0)), "invalidValue"),
    ("syncobject-empty", envelope("syncobject", b""), "invalidValue"),
    # object and custom bodies over their limits are built by the Swift tests (too large to keep here).
]
print("# Nymbus overlay wire vectors (spec/wire.md). Generated by wire_vectors.py; do not edit by hand.")
print("# valid <name> <hex>: decodes to the named value and that value encodes to exactly these bytes.")
print("# invalid <name> <error-code> <hex>: decoding fails with that WireError code.")
for name, data in valid:
    print(f"valid {name} {data.hex()}")
for name, data, code in invalid:
    print(f"invalid {name} {code} {data.hex()}")
