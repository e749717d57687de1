#!/usr/bin/env python3
"""A worker pool on a Redis stream consumer group, through a Nymbus broker. Needs only redis-py.

    python3 worker_pool.py --socket S produce jobs 10            # append 10 jobs to stream `jobs`
    python3 worker_pool.py --socket S work jobs --name w1        # a worker (run several)
    python3 worker_pool.py --socket S work jobs --name w2 --min-idle 5000

Workers share the group `workers`: each job goes to one of them (XREADGROUP ... >) and stays
pending until the worker acknowledges it (XACK). A worker that dies leaves its jobs pending; every
worker first takes over jobs that have been pending longer than --min-idle milliseconds
(XAUTOCLAIM), so a dead worker's jobs are done by the others. The stream, the group and the
pending lists are on the node's disk: a restarted node (or worker) carries on where it was.
On a Nymbus node the stream key is a topic: jobs XADDed on one node reach the streams of every
node that keeps one for it (spec/broker.md "Streams on a node's topics").

Output: one line per finished job, "<worker> done <job>".
"""

import argparse
import os
import sys

import redis

GROUP = "workers"


def produce(client, stream, count):
    for index in range(count):
        client.xadd(stream, {"job": "job-%d" % index})
    print("produced %d jobs on %s" % (count, stream), flush=True)
    return 0


def finish(client, stream, name, entry_id, fields):
    print("%s done %s" % (name, fields.get(b"job", b"?").decode()), flush=True)
    client.xack(stream, GROUP, entry_id)


def work(client, stream, name, min_idle, crash_after, idle_exit_ms):
    try:
        client.xgroup_create(stream, GROUP, id="0", mkstream=True)
    except redis.ResponseError as error:
        if not str(error).startswith("BUSYGROUP"):
            raise
    taken = 0
    while True:
        # Jobs a dead (or slow) worker left pending: take them over first.
        cursor = "0-0"
        while True:
            cursor, claimed, _deleted = client.xautoclaim(stream, GROUP, name, min_idle, start_id=cursor, count=10)
            for entry_id, fields in claimed:
                finish(client, stream, name, entry_id, fields)
            if cursor in (b"0-0", "0-0"):
                break
        reply = client.xreadgroup(GROUP, name, {stream: ">"}, count=1, block=idle_exit_ms or 1000)
        if not reply:
            if idle_exit_ms:
                return 0
            continue
        for entry_id, fields in reply[0][1]:
            taken += 1
            if crash_after and taken > crash_after:
                # Simulates a crash: the job was delivered to us but is never acknowledged.
                print("%s crashed holding %s" % (name, fields.get(b"job", b"?").decode()), flush=True)
                os._exit(3)
            finish(client, stream, name, entry_id, fields)


def main(argv=None):
    parser = argparse.ArgumentParser(description="A worker pool on a stream consumer group.")
    parser.add_argument("--socket", default=os.environ.get("NYMBUS_SOCKET", os.path.expanduser("~/.nymbus/nymbus.sock")))
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("produce", help="append jobs")
    p.add_argument("stream")
    p.add_argument("count", type=int)
    w = commands.add_parser("work", help="run a worker")
    w.add_argument("stream")
    w.add_argument("--name", required=True)
    w.add_argument("--min-idle", type=int, default=30000, help="take over jobs pending this long (ms)")
    w.add_argument("--crash-after", type=int, default=0, help="die without acknowledging the job after N (a test aid)")
    w.add_argument("--exit-when-idle", type=int, default=0, metavar="MS", help="exit after MS with no new job")
    args = parser.parse_args(argv)
    client = redis.Redis(unix_socket_path=args.socket)
    try:
        if args.command == "produce":
            return produce(client, args.stream, args.count)
        return work(client, args.stream, args.name, args.min_idle, args.crash_after, args.exit_when_idle)
    except redis.ConnectionError as error:
        print("error: cannot reach the Nymbus broker at %s (%s)" % (args.socket, error), file=sys.stderr)
        return 1
    except redis.ResponseError as error:
        print("error: the broker refused: %s" % error, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
