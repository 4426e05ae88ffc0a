#!/usr/bin/env bash
# Fuzzing (cargo-fuzz, libFuzzer + AddressSanitizer, on nightly): each target in fuzz/ runs
# for a bounded time (FUZZ_SECONDS, default 20) from an empty corpus.
#   queue   readyloop::sync::Queue: put/get (nowait and awaited), cancel, task_done, join
#   timers  the timer heap through Sleep: arm, drop, reset, spurious polls, time passing
#   transport_buffer  the Transport's OutputBuffer against a model: set_limits, push,
#           consume, clear, front (contents, all-or-nothing hard limit, water marks)
# A crash fails the check and prints the input (`cargo fuzz fmt`); it then becomes a
# regression test in tests/. Budget: cargo-fuzz install ~30 s (skipped when present),
# build ~1 min, 20 s per target.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${FUZZ_SECONDS:-20}
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || timeout 600 cargo install --locked cargo-fuzz
cd fuzz
timeout 900 cargo +nightly fuzz build
for target in $(cargo +nightly fuzz list); do
    echo "--- fuzz $target for ${seconds} s"
    rm -rf "artifacts/$target"
    set +e
    timeout $((seconds + 120)) cargo +nightly fuzz run "$target" -- \
        -max_total_time="$seconds" -print_final_stats=1 >"/tmp/fuzz-$target.log" 2>&1
    rc=$?
    set -e
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|Done)' "/tmp/fuzz-$target.log" || true
    if [ "$rc" -ne 0 ]; then
        tail -n 40 "/tmp/fuzz-$target.log"
        for crash in artifacts/"$target"/*; do
            [ -e "$crash" ] || continue
            echo "crash input $crash:"
            cargo +nightly fuzz fmt "$target" "$crash" 2>&1 | tail -n 40 || true
        done
        echo "FAILED: fuzz target $target (exit $rc)"
        exit 1
    fi
done
