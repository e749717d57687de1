"""redis-py's streams API against a Nymbus broker (argv[1] = socket), RESP2 then RESP3.

Every call is checked against what Redis answers; prints OK at the end."""
import sys, threading, time, redis

def entries_of(reply, key, protocol):
    """redis-py's XREAD/XREADGROUP result: RESP2 [[key, entries]], RESP3 {key: [entries]}."""
    if protocol == 3:
        return reply[key.encode()][0]
    assert reply[0][0] == key.encode(), reply
    return reply[0][1]

def check(protocol):
    r = redis.Redis(unix_socket_path=sys.argv[1], protocol=protocol, socket_timeout=15)
    k = "py%d:orders" % protocol
    r.delete(k)
    assert r.exists(k) == 0 and r.type(k) == b"none"
    a = r.xadd(k, {"item": "tea", "qty": 2}, id="1-1")
    assert a == b"1-1", a
    b = r.xadd(k, {"item": b"\x00bin\r\n", "qty": 1})
    assert b.count(b"-") == 1 and b > a
    try:
        r.xadd(k, {"x": 1}, id="1-1"); raise AssertionError("old id accepted")
    except redis.ResponseError as e:
        assert str(e) == "The ID specified in XADD is equal or smaller than the target stream top item", str(e)
    assert r.xadd("py-missing", {"a": 1}, nomkstream=True) is None
    assert r.exists(k) == 1 and r.type(k) == b"stream"
    assert r.xlen(k) == 2
    rows = r.xrange(k)
    assert rows == [(b"1-1", {b"item": b"tea", b"qty": b"2"}), (b, {b"item": b"\x00bin\r\n", b"qty": b"1"})], rows
    assert r.xrevrange(k, count=1) == [rows[1]]
    assert r.xrange(k, min="(1-1") == [rows[1]]
    for i in range(10):
        r.xadd(k, {"n": i}, maxlen=8, approximate=False)
    assert r.xlen(k) == 8
    assert r.xtrim(k, maxlen=5, approximate=False) == 3
    assert r.xtrim(k, minid="0-1") == 0
    last = r.xrevrange(k, count=1)[0][0]
    assert r.xdel(k, last) == 1 and r.xlen(k) == 4

    # XREAD: history, $, and BLOCK woken by another connection.
    got = r.xread({k: "0-0"}, count=2)
    assert len(got) == 1 and len(entries_of(got, k, protocol)) == 2, got
    assert r.xread({k: "$"}, block=20) in (None, [], {}), "timeout should be empty"
    def later():
        w = redis.Redis(unix_socket_path=sys.argv[1], protocol=protocol)
        deadline = time.time() + 10
        while time.time() < deadline and int(w.info("clients")["blocked_clients"]) < 1:
            time.sleep(0.005)
        w.xadd(k, {"woke": "1"}, id="99999999999999-1")
    t = threading.Thread(target=later); t.start()
    got = r.xread({k: "$"}, block=0)
    t.join()
    assert entries_of(got, k, protocol) == [(b"99999999999999-1", {b"woke": b"1"})], got

    # Consumer groups.
    g = "workers"
    assert r.xgroup_create(k, g, id="0") is True
    try:
        r.xgroup_create(k, g, id="0"); raise AssertionError("duplicate group")
    except redis.ResponseError as e:
        assert str(e) == "BUSYGROUP Consumer Group name already exists", str(e)
    assert r.xgroup_create("py%d:new" % protocol, g, id="$", mkstream=True) is True
    assert r.xgroup_createconsumer(k, g, "alice") == 1
    first = r.xreadgroup(g, "alice", {k: ">"}, count=2)
    firstEntries = entries_of(first, k, protocol)
    assert len(firstEntries) == 2, first
    rest = r.xreadgroup(g, "bob", {k: ">"})
    restEntries = entries_of(rest, k, protocol)
    assert len(restEntries) == 3, rest
    assert r.xreadgroup(g, "bob", {k: ">"}, block=10) in (None, [], {})
    history = r.xreadgroup(g, "alice", {k: "0"})
    historyEntries = entries_of(history, k, protocol)
    assert [e[0] for e in historyEntries] == [e[0] for e in firstEntries]
    summary = r.xpending(k, g)
    assert summary["pending"] == 5 and summary["min"] == firstEntries[0][0], summary
    assert sorted((c["name"], c["pending"]) for c in summary["consumers"]) == [(b"alice", 2), (b"bob", 3)], summary
    detail = r.xpending_range(k, g, min="-", max="+", count=10, consumername="bob")
    assert [d["times_delivered"] for d in detail] == [1, 1, 1] and all(d["consumer"] == b"bob" for d in detail), detail
    assert r.xack(k, g, firstEntries[0][0]) == 1
    claimed = r.xclaim(k, g, "carol", 0, [restEntries[0][0]], justid=True)
    assert claimed == [restEntries[0][0]], claimed
    auto = r.xautoclaim(k, g, "dave", 0, start_id="0-0", count=10, justid=True)
    assert len(auto) == 4 and restEntries[0][0] in auto, auto  # JUSTID: redis-py returns the ids
    assert r.xpending(k, g)["consumers"] == [{"name": b"dave", "pending": 4}]
    info = r.xinfo_stream(k)
    assert info["length"] == 5 and info["groups"] == 1 and info["last-entry"][0] == b"99999999999999-1", info
    full = r.xinfo_stream(k, full=True)
    assert full["length"] == 5 and len(full["entries"]) == 5 and len(full["groups"]) == 1, full
    assert full["groups"][0]["pel-count"] == 4 and len(full["groups"][0]["consumers"]) == 4, full
    groups = r.xinfo_groups(k)
    assert groups[0]["name"] == b"workers" and groups[0]["pending"] == 4 and groups[0]["lag"] == 0, groups
    consumers = r.xinfo_consumers(k, g)
    assert [c["name"] for c in consumers] == [b"alice", b"bob", b"carol", b"dave"], consumers
    assert r.xgroup_delconsumer(k, g, "dave") == 4
    assert r.xgroup_setid(k, g, id="0") is True
    assert r.xgroup_destroy(k, g) == 1
    assert r.delete(k, "py%d:new" % protocol) == 2 and r.exists(k) == 0

for protocol in (2, 3):
    check(protocol)
print("OK")
