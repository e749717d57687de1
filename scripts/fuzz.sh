#!/usr/bin/env bash
# make fuzz SECONDS=N: builds nymbus-fuzz with libFuzzer and runs every target for N seconds,
# seeded from spec/vectors. Crashing inputs land in fuzz-findings/; add each one as a regression
# test (and to the committed corpus) before fixing the bug.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
scratch=.build-fuzz
swift build --scratch-path "$scratch" --product nymbus-fuzz -Xswiftc -sanitize=fuzzer -Xswiftc -DFUZZING
binary="$scratch/debug/nymbus-fuzz"
rm -rf "$scratch/corpus" && python3 scripts/fuzz_seeds.py "$scratch/corpus" && "$binary" seeds "$scratch/corpus"
mkdir -p fuzz-findings
targets=$( ("$binary" 2>&1 || true) | sed -n 's/^usage: nymbus-fuzz \([^ ]*\) .*/\1/p' | tr '|' ' ')
printf '%-14s %12s %10s %10s %s\n' target runs exec/s seconds findings
status=0
for target in $targets; do
    corpus="$scratch/corpus/$target"
    mkdir -p "$corpus"
    log="$scratch/fuzz-$target.log"
    set +e
    SWIFT_BACKTRACE=enable=no "$binary" "$target" "$corpus" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -artifact_prefix="fuzz-findings/$target-" >"$log" 2>&1
    rc=$?
    set -e
    runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
    secs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\2/p' "$log" | tail -1)
    findings=$(ls fuzz-findings 2>/dev/null | grep -c "^$target-" || true)
    rate=0
    [ -n "$runs" ] && [ "${secs:-0}" -gt 0 ] && rate=$((runs / secs))
    printf '%-14s %12s %10s %10s %s\n' "$target" "${runs:-crashed}" "$rate" "${secs:-?}" "$findings"
    [ $rc -ne 0 ] && status=1 && tail -20 "$log"
done
exit $status
