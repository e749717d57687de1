#!/usr/bin/env python3
"""An anonymous group chat in the terminal, on a Nymbus private topic. Needs only redis-py.

    python3 chat.py --socket S new <room>                 # make a room; prints its invite
    python3 chat.py --socket S join <invite> --nick alice # join, then type lines; Ctrl-D leaves
    python3 chat.py --socket S join <invite> --nick bob   # (on another node)
    python3 chat.py --socket S join <invite> --nick bob --history 20  # ...and show the last 20 lines

`--history N` makes the node keep the room's history in a stream (a Redis stream whose key is the
channel, stored on the node's disk; spec/broker.md "Streams") and prints the last N lines kept
there before the live ones. The node appends every message of the room that reaches it, also
while this program is not running, so a member who comes back sees what was said meanwhile
(as long as their node was up).

`new` asks the node for a fresh private topic (NYMBUS.TOPIC NEW <room>); the reply is the local
channel name (`~room`) and an invite string. Give the invite to the people you want in the room,
over a channel you trust: the invite IS the room's key. `join` hands it to the node
(NYMBUS.JOIN), subscribes to the channel, publishes each line you type, and prints what the
others write. Every message travels encrypted through the mixnet; nodes without the invite relay
it but cannot read it, and no participant learns another's IP address.

What this does NOT give you (read docs/THREAT-MODEL.md):
  * The nick is only a label inside the message. It is not authentication: any member can write
    any nick, and there is no way to tell who really wrote a line.
  * Every member can read everything in the room and post to it, and anyone you (or they) give
    the invite to becomes a member. There is no removing a member: make a new room instead.
  * The node keeps the room's secret in its data directory (topics.json) until you leave it with
    `redis-cli -s S NYMBUS.TOPIC LEAVE ~room`.
  * Delivery is best effort and unordered, like Redis pub/sub: lines can arrive out of order
    (the mixnet delays each message independently) and a member whose node is offline misses
    them. With --history the node's disk holds the room in plaintext (mode 0600).

Message format (one published payload): JSON {"v": 1, "id": <random hex>, "nick": ..., "text": ...}.
"""

import argparse
import json
import os
import secrets
import sys
import threading

import redis

MAX_NICK = 32        # characters
MAX_TEXT = 2000      # characters; the bus itself carries up to 64 KiB
MAX_SENT_IDS = 1000  # own message ids remembered, to skip our own echoes


def default_socket():
    """The broker socket `nymbus run` uses when no --socket is given."""
    path = os.environ.get("NYMBUS_SOCKET")
    if path:
        return path
    home = os.environ.get("NYMBUS_HOME") or os.path.join(os.path.expanduser("~"), ".nymbus")
    return os.path.join(home, "nymbus.sock")


def clean(text: str, limit: int) -> str:
    """Keeps a remote string safe to print: no control characters (terminal escape sequences
    could rewrite your screen or fake other lines), at most `limit` characters."""
    return "".join(c if c.isprintable() else "\N{REPLACEMENT CHARACTER}" for c in text[:limit])


def encode(nick: str, text: str, message_id: str) -> bytes:
    return json.dumps({"v": 1, "id": message_id, "nick": nick, "text": text}, ensure_ascii=False).encode("utf-8")


def decode(payload: bytes):
    """(id, nick, text) of a chat message, or None for anything else. Members can post any bytes,
    so nothing here is trusted: wrong types, sizes and encodings are refused, never crash us."""
    if len(payload) > 4 * MAX_TEXT + 1024:
        return None
    try:
        message = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(message, dict) or message.get("v") != 1:
        return None
    message_id, nick, text = message.get("id"), message.get("nick"), message.get("text")
    if not (isinstance(message_id, str) and isinstance(nick, str) and isinstance(text, str)):
        return None
    return message_id, clean(nick, MAX_NICK) or "?", clean(text, MAX_TEXT)


class Printer:
    """One line at a time from two threads (the network reader and the keyboard loop)."""

    def __init__(self):
        self.lock = threading.Lock()

    def __call__(self, line: str):
        with self.lock:
            print(line, flush=True)


def new_room(client: redis.Redis, room: str) -> int:
    channel, invite = client.execute_command("NYMBUS.TOPIC", "NEW", room)
    print("room: %s" % channel.decode())
    print("invite: %s" % invite.decode())
    print("Share the invite only with the people who should read and write in this room;"
          " they join with: chat.py join <invite> --nick NAME", file=sys.stderr)
    return 0


def show_history(client: redis.Redis, channel: str, count: int, say) -> None:
    """Makes the node keep a stream for the room (idempotent) and prints its last `count` lines."""
    try:
        client.xgroup_create(channel, "chat-history", id="$", mkstream=True)
    except redis.ResponseError as error:
        if not str(error).startswith("BUSYGROUP"):
            raise
    for _, fields in reversed(client.xrevrange(channel, count=count)):
        decoded = decode(fields.get(b"message", b""))
        if decoded is not None:
            _, who, text = decoded
            say("[history] <%s> %s" % (who, text))


def join_room(client: redis.Redis, invite: str, nick: str, channel_name, history: int = 0) -> int:
    args = ["NYMBUS.JOIN", invite] + ([channel_name] if channel_name else [])
    channel = client.execute_command(*args).decode()
    if history > 0:
        show_history(client, channel, history, Printer())
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel)
    reply = pubsub.parse_response(block=True)  # wait for the confirmation
    assert reply and reply[0] == b"subscribe", reply
    say = Printer()
    sent = []  # ids of our own messages: the broker delivers our publishes to us too
    sent_lock = threading.Lock()

    def receive():
        for message in pubsub.listen():
            if message["type"] != "message":
                continue
            decoded = decode(message["data"])
            if decoded is None:
                say("[unreadable message of %d bytes]" % len(message["data"]))
                continue
            message_id, who, text = decoded
            with sent_lock:
                if message_id in sent:
                    continue
            say("<%s> %s" % (who, text))

    say("joined %s as %s; type a line and press Enter to send, Ctrl-D to leave" % (channel, nick))
    say("(your nick is only a label: members cannot verify who wrote a line, and every member reads everything)")
    threading.Thread(target=receive, daemon=True).start()
    for line in sys.stdin:
        text = line.rstrip("\r\n")
        if not text:
            continue
        if text == "/quit":
            break
        message_id = secrets.token_hex(8)
        with sent_lock:
            sent.append(message_id)
            del sent[:-MAX_SENT_IDS]
        try:
            client.publish(channel, encode(nick, text[:MAX_TEXT], message_id))
        except redis.ResponseError as error:
            say("[not sent: %s]" % error)
    say("left %s (the node stays a member; NYMBUS.TOPIC LEAVE %s forgets the room)" % (channel, channel))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Anonymous group chat on a Nymbus private topic.")
    parser.add_argument("--socket", default=default_socket(), help="broker socket (default: %(default)s)")
    commands = parser.add_subparsers(dest="command", required=True)
    new = commands.add_parser("new", help="create a room and print its invite")
    new.add_argument("room", help="a short name; the local channel becomes ~room")
    join = commands.add_parser("join", help="join a room with its invite and chat")
    join.add_argument("invite")
    join.add_argument("--nick", required=True, help="a label shown with your lines (not authentication)")
    join.add_argument("--channel", help="local channel name to use (default: ~ + the invite's label)")
    join.add_argument("--history", type=int, default=0, metavar="N",
                      help="keep the room's history on the node and show its last N lines first")
    args = parser.parse_args(argv)
    if args.command == "join" and not (1 <= len(args.nick) <= MAX_NICK and args.nick.isprintable()):
        parser.error("--nick must be 1 to %d printable characters" % MAX_NICK)

    if not os.path.exists(args.socket):  # fail at once (redis-py would retry for seconds)
        print("error: cannot reach the Nymbus broker at %s (no such socket); is `nymbus run` or `nymbus devnet` running?"
              % args.socket, file=sys.stderr)
        return 1
    client = redis.Redis(unix_socket_path=args.socket)
    try:
        if args.command == "new":
            return new_room(client, args.room)
        return join_room(client, args.invite, args.nick, args.channel, args.history)
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
