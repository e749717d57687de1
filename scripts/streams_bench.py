#!/usr/bin/env python3
"""Consumer-group throughput for `make bench`: XREADGROUP + XACK of N entries.

    streams_bench.py SOCKET fill N        # XADD N entries to `bench-q` (pipelined)
    streams_bench.py SOCKET consume N     # read them with XREADGROUP COUNT 100, XACK each batch

`consume` prints "entries <n> seconds <s>". Both servers get the same client, so the ratio of the
rates, and of the server CPU per entry that bench.sh reads from /proc, compares the servers."""
import sys, time, redis

socket, mode, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
r = redis.Redis(unix_socket_path=socket)
if mode == "fill":
    r.delete("bench-q")
    for start in range(0, count, 1000):
        p = r.pipeline(transaction=False)
        for i in range(start, min(count, start + 1000)):
            p.xadd("bench-q", {"job": i})
        p.execute()
    r.xgroup_create("bench-q", "g", id="0")
else:
    done = 0
    began = time.perf_counter()
    while done < count:
        reply = r.xreadgroup("g", "c", {"bench-q": ">"}, count=100)
        if not reply:
            break
        ids = [entry_id for entry_id, _ in reply[0][1]]
        r.xack("bench-q", "g", *ids)
        done += len(ids)
    print("entries %d seconds %.3f" % (done, time.perf_counter() - began))
