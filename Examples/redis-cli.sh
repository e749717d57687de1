#!/bin/sh
# The session of Examples/redis-cli.md, as a script that checks every answer.
#
#   nymbus devnet --nodes 3 --hidden 1 --dir /tmp/nymbus-devnet     # in one terminal
#   Examples/redis-cli.sh /tmp/nymbus-devnet                        # in another
#
# Node 0 and 1 are visible, node 2 is hidden (it gives out no Nym address). Every message below
# crosses the local mixnet between two nodes. Prints each command and its answer; exits 1 at the
# first answer that is not the expected one. Run it again on the same devnet as often as you like.
set -eu

DIR=${1:-${TMPDIR:-/tmp}/nymbus-devnet}
N0=$DIR/node-0/nymbus.sock
N1=$DIR/node-1/nymbus.sock
N2=$DIR/node-2/nymbus.sock
WORK=$(mktemp -d "${TMPDIR:-/tmp}/nymbus-redis-cli.XXXXXX")
PIDS=""
cleanup() {
    for pid in $PIDS; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

for socket in "$N0" "$N1" "$N2"; do
    [ -S "$socket" ] || { echo "no broker socket at $socket: is 'nymbus devnet --nodes 3 --hidden 1 --dir $DIR' running?" >&2; exit 1; }
done

fail() { echo "FAILED: $*" >&2; exit 1; }

# show CMD...: prints "$ CMD" as you would type it (sockets as $N0..$N2, odd arguments quoted).
show() {
    line='$'
    for arg in "$@"; do
        case $arg in
            "$N0") arg='$N0' ;;
            "$N1") arg='$N1' ;;
            "$N2") arg='$N2' ;;
            '' | *[!A-Za-z0-9_./:=@%+-]*) arg="'$(printf '%s' "$arg" | sed "s/'/'\\\\''/g")'" ;;
        esac
        line="$line $arg"
    done
    printf '%s\n' "$line"
}

# run EXPECTED CMD...: prints "$ CMD" and the answer; the answer must equal EXPECTED.
run() {
    expected=$1; shift
    show "$@"
    answer=$("$@" 2>&1) || true
    printf '%s\n' "$answer"
    [ "$answer" = "$expected" ] || fail "expected '$expected'"
}

# wait_for FILE TEXT: waits (up to 30 s) until a background subscriber printed TEXT.
wait_for() {
    i=0
    until grep -qF -- "$2" "$1" 2>/dev/null; do
        i=$((i + 1)); [ $i -le 300 ] || { cat "$1" >&2; fail "'$2' never arrived in $1"; }
        sleep 0.1
    done
}

# wait_listening SOCKET CHANNEL: the broker hands a new subscription to the node asynchronously;
# NYMBUS.TOPIC LIST shows the channel once the node listens to its topic.
wait_listening() {
    i=0
    until redis-cli -s "$1" NYMBUS.TOPIC LIST | grep -qxF -- "$2"; do
        i=$((i + 1)); [ $i -le 300 ] || fail "the node behind $1 never listened to $2"
        sleep 0.1
    done
}

# background FILE CMD...: starts a subscriber whose output goes to FILE.
background() {
    file=$1; shift
    printf '%s &\n' "$(show "$@")"
    "$@" >"$file" 2>&1 &
    PIDS="$PIDS $!"
}

echo "N0=$N0  N1=$N1  N2=$N2"
echo "== 1. a public topic: subscribe on node 2 (hidden), publish on node 0"
run PONG redis-cli -s "$N0" PING
background "$WORK/news.txt" redis-cli --no-raw -s "$N2" SUBSCRIBE news
wait_listening "$N2" news
# PUBLISH answers the number of *local* subscribers: none on node 0, the message goes out to peers.
run 0 redis-cli -s "$N0" PUBLISH news "hello through the mixnet"
wait_for "$WORK/news.txt" '"hello through the mixnet"'
cat "$WORK/news.txt"

echo "== 2. binary payloads: -x sends standard input as the last argument, byte for byte"
printf '%s\n' "\$ printf 'a\\0b\\r\\n\\377' | redis-cli -s \$N0 -x PUBLISH news"
answer=$(printf 'a\0b\r\n\377' | redis-cli -s "$N0" -x PUBLISH news)
echo "$answer"
[ "$answer" = 0 ] || fail "expected 0"
wait_for "$WORK/news.txt" '"a\x00b\r\n\xff"'
tail -n 3 "$WORK/news.txt"

echo "== 3. patterns: PSUBSCRIBE matches the topics this node knows by name"
# Objects carry no topic name (relays must not learn it), so a pattern can only match channels
# this node has named itself: by SUBSCRIBE, PUBLISH or NYMBUS.JOIN. Node 2 knows 'news'.
background "$WORK/pattern.txt" redis-cli --no-raw -s "$N2" PSUBSCRIBE 'new*'
wait_for "$WORK/pattern.txt" '"psubscribe"'
run 0 redis-cli -s "$N0" PUBLISH news "seen by the pattern too"
wait_for "$WORK/pattern.txt" '"seen by the pattern too"'
cat "$WORK/pattern.txt"

echo "== 4. a private topic: create on node 0, join on node 2 with the invite"
show redis-cli -s "$N0" NYMBUS.TOPIC NEW team
created=$(redis-cli -s "$N0" NYMBUS.TOPIC NEW team)
echo "$created"
[ "$(echo "$created" | head -n 1)" = "~team" ] || fail "expected the channel ~team"
INVITE=$(echo "$created" | tail -n 1)
case "$INVITE" in nymbus:topic:*) ;; *) fail "expected an invite, got $INVITE" ;; esac
# A second NEW of the same name is refused (the invite would stop working) unless told REPLACE.
run "ERR ~team already exists on this node; replacing it makes its current invite useless here: NYMBUS.TOPIC NEW <name> REPLACE (nymbus topic new <name> --replace), or pick another name" \
    redis-cli -s "$N0" NYMBUS.TOPIC NEW team
# A node without the invite can neither read nor post (it still relays the ciphertext).
run "ERR topic ~team is private and not joined: run NYMBUS.JOIN <invite> first" \
    redis-cli -s "$N1" PUBLISH "~team" "let me in"
run "~team" redis-cli -s "$N2" NYMBUS.JOIN "$INVITE"
background "$WORK/team.txt" redis-cli --no-raw -s "$N2" SUBSCRIBE "~team"
wait_listening "$N2" "~team"
run 0 redis-cli -s "$N0" PUBLISH "~team" "members only"
wait_for "$WORK/team.txt" '"members only"'
cat "$WORK/team.txt"
run "$INVITE" redis-cli -s "$N2" NYMBUS.TOPIC INVITE "~team"

echo "== 5. what the node is doing"
show redis-cli -s "$N2" NYMBUS.TOPIC LIST
redis-cli -s "$N2" NYMBUS.TOPIC LIST
show redis-cli -s "$N2" NYMBUS.STATUS
status=$(redis-cli -s "$N2" NYMBUS.STATUS)
echo "$status" | paste - -
[ "$(echo "$status" | sed -n 2p)" = hidden ] || fail "node 2 should report mode hidden"
echo "$status" | grep -qx "objects-delivered" || fail "NYMBUS.STATUS lacks objects-delivered"
printf '%s | head -n 14\n' "$(show redis-cli -s "$N0" NYMBUS.PEERS)"
redis-cli -s "$N0" NYMBUS.PEERS | head -n 14 | paste - -

echo "== 6. leaving the private topic"
run 1 redis-cli -s "$N2" NYMBUS.TOPIC LEAVE "~team"
run "ERR topic ~team is private and not joined: run NYMBUS.JOIN <invite> first" \
    redis-cli -s "$N2" PUBLISH "~team" "after leaving"

echo "OK: every command answered as expected"
