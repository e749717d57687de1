#!/usr/bin/env python3
"""Publish to and subscribe to Nymbus topics from Python, with nothing but redis-py.

A Nymbus node's broker speaks the Redis pub/sub protocol on a Unix socket, so the ordinary
`redis` package (pip install redis) is the whole client library:

    python3 pubsub.py --socket S subscribe news            # print messages as they arrive
    python3 pubsub.py --socket S subscribe --pattern 'n*'  # PSUBSCRIBE (topics this node knows by name)
    python3 pubsub.py --socket S publish news "hi"         # one message
    printf 'a\\0b' | python3 pubsub.py --socket S publish news -   # bytes from stdin

Against `nymbus devnet --dir /tmp/nymbus-devnet`, subscribe on one node's socket
(/tmp/nymbus-devnet/node-2/nymbus.sock) and publish on another's (node-0): the message crosses
the local mixnet between the two nodes.

The socket defaults to $NYMBUS_SOCKET, else $NYMBUS_HOME/nymbus.sock, else ~/.nymbus/nymbus.sock
(the same rule as `nymbus publish`). Payloads are bytes: the bus never interprets them.
"""

import argparse
import os
import sys

import redis


def default_socket():
    """The broker socket `nymbus run` uses when no --socket is given."""
    path = os.environ.get("NYMBUS_SOCKET")
    if path:
        return path
    home = os.environ.get("NYMBUS_HOME") or os.path.join(os.path.expanduser("~"), ".nymbus")
    return os.path.join(home, "nymbus.sock")


def printable(payload: bytes) -> str:
    """Payload bytes as one safe line: UTF-8 text, with control bytes and invalid UTF-8 escaped.

    Anyone who knows a public topic's name can post to it, so never write its bytes to a
    terminal raw: an escape sequence could rewrite the screen.
    """
    text = payload.decode("utf-8", errors="backslashreplace")
    return "".join(c if c.isprintable() else "\\x%02x" % ord(c) if ord(c) < 0x100 else "\\u%04x" % ord(c)
                   for c in text)


def publish(client: redis.Redis, topic: str, message: str) -> int:
    payload = sys.stdin.buffer.read() if message == "-" else message.encode("utf-8")
    # PUBLISH returns the number of *local* subscribers; the node also floods the message to
    # its peers through the mixnet. A refused message (e.g. a private topic not joined, or a
    # payload over 64 KiB) raises redis.ResponseError and reaches nobody.
    receivers = client.publish(topic, payload)
    print("published to %s; local subscribers: %d" % (topic, receivers), flush=True)
    return 0


def subscribe(client: redis.Redis, topics, pattern: bool, count, hex_output: bool) -> int:
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    if pattern:
        pubsub.psubscribe(*topics)
    else:
        pubsub.subscribe(*topics)
    # Wait for the broker's confirmations, so "subscribed" really means subscribed.
    confirmed = 0
    while confirmed < len(topics):
        reply = pubsub.parse_response(block=True)
        if reply and reply[0] in (b"subscribe", b"psubscribe"):
            confirmed += 1
    print("subscribed to %s; waiting for messages (Ctrl-C to stop)" % ", ".join(topics), flush=True)
    received = 0
    for message in pubsub.listen():
        if message["type"] not in ("message", "pmessage"):
            continue
        data = message["data"]
        text = data.hex() if hex_output else printable(data)
        print("%s: %s" % (printable(message["channel"]), text), flush=True)
        received += 1
        if count is not None and received >= count:
            break
    pubsub.close()
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Nymbus pub/sub with redis-py.")
    parser.add_argument("--socket", default=default_socket(),
                        help="broker socket (default: %(default)s)")
    commands = parser.add_subparsers(dest="command", required=True)
    pub = commands.add_parser("publish", help="publish one message")
    pub.add_argument("topic")
    pub.add_argument("message", help="the message text, or - to read bytes from stdin")
    sub = commands.add_parser("subscribe", help="print messages as they arrive")
    sub.add_argument("topics", nargs="+")
    sub.add_argument("--pattern", action="store_true", help="glob patterns (PSUBSCRIBE)")
    sub.add_argument("--count", type=int, help="exit after this many messages")
    sub.add_argument("--hex", action="store_true", help="print payloads as hex")
    args = parser.parse_args(argv)

    if not os.path.exists(args.socket):  # fail at once (redis-py would retry for seconds)
        print("error: cannot reach the Nymbus broker at %s (no such socket); is `nymbus run` or `nymbus devnet` running?"
              % args.socket, file=sys.stderr)
        return 1
    client = redis.Redis(unix_socket_path=args.socket)
    try:
        if args.command == "publish":
            return publish(client, args.topic, args.message)
        return subscribe(client, args.topics, args.pattern, args.count, args.hex)
    except redis.ConnectionError as error:
        print("error: cannot reach the Nymbus broker at %s (%s); is `nymbus run` or `nymbus devnet` running?"
              % (args.socket, error), file=sys.stderr)
        return 1
    except redis.ResponseError as error:
        print("error: the node refused: %s" % error, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
