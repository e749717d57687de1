#!/usr/bin/env bash
# Runs every Nymbus benchmark of issue 7 in release builds and prints one table at the end.
#
#   scripts/bench.sh                 # everything (make bench)
#   BENCH_ONLY=object,memory scripts/bench.sh
#   JOBS=2 scripts/bench.sh          # limit build jobs on a shared machine
#
# Every benchmark measures its baseline in the same run, because these machines are noisy:
#   object   ObjectBench: receive/publish pipeline vs libsodium doing only the crypto, one core
#   broker   redis-benchmark and BrokerBench against the Nymbus broker (alone, and inside a
#            node) and against a redis-server started here on a Unix socket
#   streams  XADD (redis-benchmark -P 16) and XREADGROUP+XACK (scripts/streams_bench.py) against the
#            broker with streams.sqlite (everysec) and redis-server with appendonly yes, everysec
#   overlay  OverlayBench: a 50-node devnet in one process, 0 and 15 ms mixing delay per hop
#   flow     FlowBench: 3- and 20-node devnets paced as nym-client; sustained rate, latency, memory
#   memory   MemoryBench: one node with 64 peers and a full seen cache
#   relink   RelinkBench: relink time after a peer is killed (visible, hidden dialer) and the
#            keepalive's packets per idle link per minute
#   dissemination  DisseminationBench: flood against the eager/lazy tree on one 50-node overlay
#            (5 hidden) paced as nym-client: messages per delivery, sustained rate, latency, churn,
#            5 % loss, reply SURBs at a hidden node
#   catchup  CatchupBench: catch-up after 10 minutes and 6 hours of a topic at 1 msg/s (packets per
#            missed message, time to caught-up vs live delivery) and a hidden node's 10 minutes
# Needs: swift, libsodium (make deps), redis-server, redis-benchmark (make bench installs them).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PACKAGE="$ROOT/Benchmarks"
SWIFT=${SWIFT:-swift}
ONLY=${BENCH_ONLY:-object,broker,streams,overlay,flow,memory,relink,dissemination,catchup}
BUILD=(-c release --package-path "$PACKAGE")
if [ -n "${JOBS:-}" ]; then BUILD+=(-j "$JOBS"); fi
if [ -n "${BENCH_SCRATCH:-}" ]; then BUILD+=(--scratch-path "$BENCH_SCRATCH"); fi

wanted() { [[ ",$ONLY," == *",$1,"* ]]; }

echo "== building the benchmarks (release; the first build takes a few minutes)"
if [ "$ONLY" = streams ]; then
    # The streams comparison needs only the broker (and the table).
    "$SWIFT" build "${BUILD[@]}" --product BrokerServe
    "$SWIFT" build "${BUILD[@]}" --product BenchTable
else
    "$SWIFT" build "${BUILD[@]}"
fi
BIN=$("$SWIFT" build "${BUILD[@]}" --show-bin-path)

# Short path: Unix socket paths are limited to ~107 bytes.
WORK=$(mktemp -d /tmp/nymbus-bench-XXXXXX)
ROWS="$WORK/rows.tsv"
: >"$ROWS"
PIDS=()
FAILED=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Runs one benchmark, shows its output as it goes (without the @row lines), keeps the rows.
run() {
    local name=$1
    shift
    echo
    echo "== $name"
    if "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" < /dev/null; then
        grep -v '^@row' "$WORK/$name.out" || true
        grep '^@row' "$WORK/$name.out" >>"$ROWS" || true
    else
        grep -v '^@row' "$WORK/$name.out" || true
        cat "$WORK/$name.err" >&2
        FAILED+=("$name")
        printf '@row\t%s\tFAILED (see output above)\t—\t—\t—\tNO\n' "$name" >>"$ROWS"
    fi
}

# Waits for a `ready …` line from a background server; prints the rest of the line.
wait_ready() {
    local file=$1 pid=$2 what=$3
    for _ in $(seq 1 600); do
        if grep -q '^ready ' "$file" 2>/dev/null; then
            sed -n 's/^ready //p' "$file" | head -n 1
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "$what exited before it was ready:" >&2
            cat "$file" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "$what was not ready within 60 s" >&2
    return 1
}

# CPU seconds a process has used so far, summed over its threads: nanoseconds on a CPU from
# /proc/PID/task/*/schedstat where the kernel has it, else user + system ticks from /proc/PID/stat.
TICKS=$(getconf CLK_TCK)
cpu_seconds() {
    if [ -r "/proc/$1/schedstat" ]; then
        cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.6f", s / 1e9 }'
    else
        awk -v t="$TICKS" '{ printf "%.3f", ($14 + $15) / t }' "/proc/$1/stat"
    fi
}

if wanted object; then
    # One core: pinned to one CPU, and Swift's cooperative pool limited to one thread.
    PIN=()
    if command -v taskset >/dev/null 2>&1; then PIN=(taskset -c "$(($(nproc) - 1))"); fi
    run object env LIBDISPATCH_COOPERATIVE_POOL_STRICT=1 "${PIN[@]}" "$BIN/ObjectBench"
fi

if wanted broker; then
    echo
    echo "== broker: starting redis-server, the Nymbus broker alone, and a Nymbus node (2-node devnet)"
    mkdir -m 700 "$WORK/redis" "$WORK/devnet"
    redis-server --port 0 --unixsocket "$WORK/redis/redis.sock" --unixsocketperm 700 --save '' --appendonly no \
        --daemonize no >"$WORK/redis.log" 2>&1 &
    REDIS_PID=$!
    PIDS+=("$REDIS_PID")
    "$BIN/BrokerServe" loopback --socket "$WORK/loopback/nymbus.sock" >"$WORK/loopback.log" 2>&1 &
    LOOPBACK_PID=$!
    PIDS+=("$LOOPBACK_PID")
    "$BIN/BrokerServe" peer --dir "$WORK/devnet" >"$WORK/peer.log" 2>&1 &
    PEER_PID=$!
    PIDS+=("$PEER_PID")
    read -r MIXNET_URL PEER_ADDRESS < <(wait_ready "$WORK/peer.log" "$PEER_PID" "the mixnet and node 1") || true
    if [ -z "${PEER_ADDRESS:-}" ]; then
        echo "the mixnet and node 1 did not start" >&2
        exit 1
    fi
    "$BIN/BrokerServe" node --dir "$WORK/devnet" --mixnet "$MIXNET_URL" --peer "$PEER_ADDRESS" >"$WORK/node.log" 2>&1 &
    NODE_PID=$!
    PIDS+=("$NODE_PID")
    LOOPBACK_SOCK=$(wait_ready "$WORK/loopback.log" "$LOOPBACK_PID" "the loopback broker")
    NODE_SOCK=$(wait_ready "$WORK/node.log" "$NODE_PID" "node 0")
    REDIS_SOCK="$WORK/redis/redis.sock"
    for _ in $(seq 1 100); do
        redis-cli -s "$REDIS_SOCK" PING >/dev/null 2>&1 && break
        sleep 0.1
    done
    echo "nymbus-broker: the broker alone (loopback backend: RESP, SUBSCRIBE/PUBLISH, fan-out; no overlay)"
    echo "nymbus-node:   node 0 of a 2-node devnet (mixing delay 0, per-link rate limit lifted); every PUBLISH is"
    echo "               padded, encrypted and Ed25519-signed and sent through the local mixnet to node 1, which"
    echo "               runs with the mixnet in another process; only node 0's process CPU is counted"
    echo "redis:         redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') on a Unix socket, started here"

    echo
    ROUNDS=${BENCH_ROUNDS:-3}
    echo "== broker: redis-benchmark -n 100000 -P 16 -q PUBLISH ch hello (50 clients), $ROUNDS alternating rounds, median"
    declare -A RPS CPU_US P50 ALL_RPS ALL_CPU ALL_P50
    median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : 0) }'; }
    for round in $(seq 1 "$ROUNDS"); do
        for server in redis nymbus-broker nymbus-node; do
            case $server in
                redis) sock=$REDIS_SOCK pid=$REDIS_PID ;;
                nymbus-broker) sock=$LOOPBACK_SOCK pid=$LOOPBACK_PID ;;
                nymbus-node) sock=$NODE_SOCK pid=$NODE_PID ;;
            esac
            before=$(cpu_seconds "$pid")
            line=$(redis-benchmark -s "$sock" -n 100000 -P 16 -q PUBLISH ch hello 2>&1 | tr '\r' '\n' |
                grep 'requests per second' | tail -n 1 || true)
            after=$(cpu_seconds "$pid")
            rps=$(sed -n 's/.*: \([0-9.]*\) requests per second.*/\1/p' <<<"$line")
            p50=$(sed -n 's/.*p50=\([0-9.]*\) msec.*/\1/p' <<<"$line")
            cpu=$(awk -v a="$before" -v b="$after" 'BEGIN { printf "%.2f", (b - a) * 1e6 / 100000 }')
            ALL_RPS[$server]="${ALL_RPS[$server]:-} ${rps:-0}"
            ALL_CPU[$server]="${ALL_CPU[$server]:-} $cpu"
            ALL_P50[$server]="${ALL_P50[$server]:-} ${p50:-0}"
            printf 'round %d %-14s %12s PUBLISH/s  p50 %6s ms  server CPU %6s µs per PUBLISH\n' "$round" "$server" \
                "${rps:-0}" "${p50:-?}" "$cpu"
        done
    done
    for server in redis nymbus-broker nymbus-node; do
        RPS[$server]=$(median <<<"${ALL_RPS[$server]}")
        CPU_US[$server]=$(median <<<"${ALL_CPU[$server]}")
        P50[$server]=$(median <<<"${ALL_P50[$server]}")
        printf 'median  %-14s %12s PUBLISH/s  p50 %6s ms  server CPU %6s µs per PUBLISH\n' "$server" "${RPS[$server]}" \
            "${P50[$server]}" "${CPU_US[$server]}"
    done
    for server in nymbus-broker nymbus-node; do
        awk -F'\t' -v s="$server" -v r="${RPS[$server]}" -v b="${RPS[redis]}" -v c="${CPU_US[$server]}" \
            -v cb="${CPU_US[redis]}" '
            function group(n,   t, out) {
                t = sprintf("%.0f", n); out = ""
                while (length(t) > 3) { out = " " substr(t, length(t) - 2) out; t = substr(t, 1, length(t) - 3) }
                return t out
            }
            BEGIN {
            ratio = (b > 0) ? r / b : 0
            printf "@row\tPUBLISH -P16 (redis-benchmark), %s\t%s/s\t%s/s redis\t%.2f\t≥ 0.80\t%s\n", s, group(r), group(b), ratio, (ratio >= 0.8 ? "yes" : "NO")
            cr = (c > 0) ? cb / c : 0
            printf "@row\tPUBLISH server CPU per message, %s\t%.2f µs\t%.2f µs redis\t%.2f\t≥ 0.80\t%s\n", s, c, cb, cr, (cr >= 0.8 ? "yes" : "NO")
        }' >>"$ROWS"
    done
    echo "(server CPU: the server process's time on a CPU, all threads, from /proc; unlike the rates it hardly"
    echo " depends on what else runs on this machine)"

    run broker-fanout "$BIN/BrokerBench" --server "nymbus-node=$NODE_SOCK" --server "nymbus-broker=$LOOPBACK_SOCK" \
        --server "redis=$REDIS_SOCK" --messages 100000 --subscribers 1,10,50
    for pid in "$NODE_PID" "$PEER_PID" "$LOOPBACK_PID" "$REDIS_PID"; do kill "$pid" 2>/dev/null || true; done
fi

if wanted streams; then
    echo
    echo "== streams: redis-server (appendonly yes, appendfsync everysec) and the Nymbus broker (streams.sqlite, everysec)"
    mkdir -m 700 -p "$WORK/redis-aof" "$WORK/streams"
    redis-server --port 0 --unixsocket "$WORK/redis-aof/redis.sock" --unixsocketperm 700 --save '' \
        --appendonly yes --appendfsync everysec --dir "$WORK/redis-aof" --daemonize no >"$WORK/redis-aof.log" 2>&1 &
    AOF_PID=$!
    PIDS+=("$AOF_PID")
    "$BIN/BrokerServe" loopback --socket "$WORK/streams/run/nymbus.sock" --streams "$WORK/streams" \
        >"$WORK/streams.log" 2>&1 &
    STREAMS_PID=$!
    PIDS+=("$STREAMS_PID")
    STREAMS_SOCK=$(wait_ready "$WORK/streams.log" "$STREAMS_PID" "the broker with a stream store")
    AOF_SOCK="$WORK/redis-aof/redis.sock"
    for _ in $(seq 1 100); do
        redis-cli -s "$AOF_SOCK" PING >/dev/null 2>&1 && break
        sleep 0.1
    done
    ROUNDS=${BENCH_ROUNDS:-3}
    declare -A XRPS XCPU GRPS GCPU
    median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : 0) }'; }
    for round in $(seq 1 "$ROUNDS"); do
        for server in redis nymbus; do
            case $server in
                redis) sock=$AOF_SOCK pid=$AOF_PID ;;
                nymbus) sock=$STREAMS_SOCK pid=$STREAMS_PID ;;
            esac
            redis-cli -s "$sock" DEL bench bench-q >/dev/null
            before=$(cpu_seconds "$pid")
            line=$(redis-benchmark -s "$sock" -n 100000 -P 16 -q XADD bench '*' f hello 2>&1 | tr '\r' '\n' |
                grep 'requests per second' | tail -n 1 || true)
            after=$(cpu_seconds "$pid")
            rps=$(sed -n 's/.*: \([0-9.]*\) requests per second.*/\1/p' <<<"$line")
            cpu=$(awk -v a="$before" -v b="$after" 'BEGIN { printf "%.2f", (b - a) * 1e6 / 100000 }')
            XRPS[$server]="${XRPS[$server]:-} ${rps:-0}"
            XCPU[$server]="${XCPU[$server]:-} $cpu"
            python3 "$ROOT/scripts/streams_bench.py" "$sock" fill 50000
            before=$(cpu_seconds "$pid")
            out=$(python3 "$ROOT/scripts/streams_bench.py" "$sock" consume 50000)
            after=$(cpu_seconds "$pid")
            grps=$(awk '{ printf "%.0f", $2 / $4 }' <<<"$out")
            gcpu=$(awk -v a="$before" -v b="$after" 'BEGIN { printf "%.2f", (b - a) * 1e6 / 50000 }')
            GRPS[$server]="${GRPS[$server]:-} $grps"
            GCPU[$server]="${GCPU[$server]:-} $gcpu"
            printf 'round %d %-7s XADD %10s/s (%6s µs CPU each)  XREADGROUP+XACK %8s entries/s (%6s µs CPU each)\n' \
                "$round" "$server" "${rps:-0}" "$cpu" "$grps" "$gcpu"
        done
    done
    for metric in XRPS XCPU GRPS GCPU; do
        declare -n values=$metric
        for server in redis nymbus; do values[$server]=$(median <<<"${values[$server]}"); done
        unset -n values
    done
    awk -v xr="${XRPS[nymbus]}" -v xb="${XRPS[redis]}" -v xc="${XCPU[nymbus]}" -v xcb="${XCPU[redis]}" \
        -v gr="${GRPS[nymbus]}" -v gb="${GRPS[redis]}" -v gc="${GCPU[nymbus]}" -v gcb="${GCPU[redis]}" 'BEGIN {
        r = (xb > 0) ? xr / xb : 0
        printf "@row\tXADD -P16 everysec (redis-benchmark), nymbus-broker\t%.0f/s\t%.0f/s redis aof\t%.2f\t≥ 0.50\t%s\n", xr, xb, r, (r >= 0.5 ? "yes" : "NO")
        r = (xc > 0) ? xcb / xc : 0
        printf "@row\tXADD server CPU per entry, nymbus-broker\t%.2f µs\t%.2f µs redis aof\t%.2f\t≥ 0.50\t%s\n", xc, xcb, r, (r >= 0.5 ? "yes" : "NO")
        r = (gb > 0) ? gr / gb : 0
        printf "@row\tXREADGROUP+XACK (COUNT 100, redis-py), nymbus-broker\t%.0f/s\t%.0f/s redis aof\t%.2f\t≥ 0.50\t%s\n", gr, gb, r, (r >= 0.5 ? "yes" : "NO")
        r = (gc > 0) ? gcb / gc : 0
        printf "@row\tXREADGROUP+XACK server CPU per entry, nymbus-broker\t%.2f µs\t%.2f µs redis aof\t%.2f\t≥ 0.50\t%s\n", gc, gcb, r, (r >= 0.5 ? "yes" : "NO")
    }' >>"$ROWS"
    for pid in "$STREAMS_PID" "$AOF_PID"; do kill "$pid" 2>/dev/null || true; done
fi

if wanted overlay; then
    run overlay "$BIN/OverlayBench" --nodes 50 --hidden 5 --objects 50 --delays 0,15
fi

if wanted flow; then
    # The flow-control issue: a paced local mixnet (nym-client's send budget), plain RESP clients.
    run flow "$BIN/FlowBench" --nodes "${FLOW_NODES:-3,20}" --overload "${FLOW_OVERLOAD:-60}" --steady "${FLOW_STEADY:-20}"
fi

if wanted relink; then
    run relink "$BIN/RelinkBench" --samples 10 --idle-seconds 120
fi

if wanted dissemination; then
    # The dissemination issue: flood and tree side by side, same graph, same paced mixnet.
    run dissemination "$BIN/DisseminationBench" --nodes "${DISSEMINATION_NODES:-50}" --hidden 5 --outbound 4 \
        --rates "${DISSEMINATION_RATES:-4,8,12,16,20,25,30}" --step-seconds 12
fi

if wanted catchup; then
    # Catch-up after being offline (issue 14): 10 minutes and 6 hours of a topic at 1 msg/s,
    # visible, and 10 minutes for a hidden node (its answers come over its reply SURBs).
    run catchup "$BIN/CatchupBench" --cases "${CATCHUP_CASES:-10m,6h}"
    run catchup-hidden "$BIN/CatchupBench" --cases 10m --history-hours 6 --hidden
fi

if wanted memory; then
    # One malloc arena: with glibc's default per-thread arenas, which cooperative-pool thread
    # happened to run the fill decides whether ~5 MiB of freed heap stays resident (the in-node
    # figure then jumps between ~84 and ~144 B per id from run to run). One arena measures the
    # data structures, not that accident; a daemon can be run the same way to save the memory.
    run memory env MALLOC_ARENA_MAX=1 "$BIN/MemoryBench" --peers 64
fi

echo
echo "== summary (ratio: relative to the baseline, higher is better: figure/baseline for rates,"
echo "   baseline/figure for latencies and costs; each baseline was measured in this run)"
echo
"$BIN/BenchTable" "$ROWS"
if [ ${#FAILED[@]} -gt 0 ]; then
    echo "failed: ${FAILED[*]}" >&2
    exit 1
fi
