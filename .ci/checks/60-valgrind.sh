#!/usr/bin/env bash
# The whole test suite under valgrind memcheck: zero errors and zero definite/indirect leaks,
# in the test binaries and in every example program they start.
#
# rustix's raw syscall backend crashes under valgrind (rustix issue 1559), so everything is
# built with `--cfg rustix_use_libc`, in its own target dir (target/valgrind, or
# $VALGRIND_TARGET_DIR) so the normal build is not invalidated: every integration test
# binary, the lib's unit tests, and the examples (`cargo build --examples`: the tests that
# run examples find them in <target>/debug/examples, next to their own deps/). Each binary
# runs as
#   valgrind --error-exitcode=1 -q --leak-check=full --errors-for-leak-kinds=definite,indirect
#            --trace-children=yes --trace-children-skip=<not ours> --log-file=...
# so the example programs that the tests examples, coord_examples, net_examples,
# echo_server, shutdown and protocol start as child processes run under memcheck too;
# cargo, rustc and shells started by a test (coord_examples runs `cargo build --examples`,
# macros runs rustc) are not ours and run natively. A child's errors show in the test's
# result only if the test checks the child's exit status (and some expect it to fail), so
# valgrind writes one log per process, and any message in any of a binary's logs fails the
# binary. ("Possibly lost" blocks are std's per-thread handles still owned by the harness at
# exit: reported by default, not errors; hidden to keep the logs short.)
# The doctests (every public item's example) run under valgrind too, after the binaries:
# rustdoc runs each one through nightly's `--test-runtool valgrind` (the machine's nightly
# toolchain, which also builds the no_std check), with the same options, in a target dir of
# their own; a run that fails with no valgrind message in its output is retried once.
# .ci/checks/valgrind.supp suppresses one leak that is glibc's, not ours (see there).
#
# Nothing is skipped (the one #[ignore] test, trace's by-hand release benchmark, is skipped
# by a plain `cargo test` too), except the process-level tests of abortive_close and
# accept_idle_at_fd_limit (timing, strace, valgrind's own fd limit: see their headers; their
# in-process tests run, and 55-fault-injection checks the release servers), the TLS tests
# (ring's assembly is opaque to memcheck) and the two hyper_rt tests that check a value is
# leaked, by design, when dropped on a foreign thread. READYLOOP_UNDER_VALGRIND=1 is set for the runs, and the
# tests read it (tests/common: under_valgrind, sized, scaled) to size themselves for
# valgrind, which runs code 20-50x slower and adds about 1.5 s to start and end a program:
#   time bounds     an upper bound on real time, or a lead that the work before a deadline
#                   must not eat (a sleep that must outlast a spawned task's first poll, a
#                   timer that must still be pending two turns later), is 20x longer
#                   (common::scaled): abort, blocking, bridge, fairness, gather, interval
#                   (its grids in 20x units), report, task_errors, tasks, timers,
#                   virtual_clock, wait, wakers; trace's sleepers sleep 100-200 ms (5-20 ms:
#                   the epoll backend ends a wait at 250 ms) and its virtual sleep is 100 s
#   the examples    run slower and are bounded alike: examples 5x (READYLOOP_SCALE),
#                   net_examples 10x, coord_examples `--scale 0.1` for `--fast` (two_loops
#                   `--scale 0.5`), so valgrind's start-up stays small next to their sleeps
#   sizes           tcp/unix transfer_64mib_*: 8 MiB; protocol: 8 MiB to a peer that never
#                   reads, 8 MiB from the producer, 32 proptest cases of the output buffer
#                   (256); model: 24 proptest cases (96); limits: a hundredth of the release
#                   sizes, at least 1,000 items (a debug run: a tenth); shutdown: 20 clients
#                   (100); fairness: the hogs need run only a tenth as often
#   accept_emfile   valgrind enforces its own fd limit by closing the fd the kernel
#                   accepted, which loses the connection: 150 clients queue, and the test
#                   checks that the back-off spent only a few of them and served the next
# A plain `cargo test` runs everything at the full sizes and tight bounds.
#
# Binaries run two at a time (VALGRIND_JOBS), the slowest first; the tests within a binary
# one at a time (--test-threads=1) so one test's work does not delay another's timers. A
# binary that fails a test (exit 101) or times out (124) with no valgrind message is rerun
# once (virtual_clock_sockets, 3 s alone, once hit the 300 s cap beside another binary; the
# cause was not found, and the first log is kept) (timing on a
# 2-core machine shared with valgrind; the first log is kept as NAME.attempt1.log); a
# valgrind message (exit 1) fails at once. Each binary is capped at 300 s. Budget on a
# 2-core machine with a warm cargo registry, from a clean target dir: about 45 s to build,
# about 2 min to run (2 min 41 s in all; the slowest binaries take 15-20 s each).
set -euo pipefail
cd "$(dirname "$0")/../.."

for tool in valgrind jq; do
    command -v "$tool" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$tool" >/dev/null; }
done
valgrind --version

export RUSTFLAGS="--cfg rustix_use_libc"
export CARGO_TARGET_DIR="${VALGRIND_TARGET_DIR:-$PWD/target/valgrind}"
export READYLOOP_UNDER_VALGRIND=1
logs="$CARGO_TARGET_DIR/valgrind-logs"
not_ours='*/cargo,*/rustc,*/rustup,*/rustdoc,*/cc,*/ld,*/sh,*/bash,*/dash,*/env,*/nc'
supp="$PWD/.ci/checks/valgrind.supp"
COMMON=(--error-exitcode=1 -q --leak-check=full --errors-for-leak-kinds=definite,indirect
    --show-possibly-lost=no "--suppressions=$supp")
VALGRIND=(valgrind "${COMMON[@]}" --trace-children=yes "--trace-children-skip=$not_ours")
jobs=${VALGRIND_JOBS:-2}
# The slowest binaries (30-40 s each) first, so the two lanes end together.
slow_first=" protocol tcp queue coord_examples examples sync zero_alloc futures_io net_examples shutdown "

start=$(date +%s)
# One JSON line per artifact; keep the test executables (lib unit tests and tests/*.rs).
mapfile -t built < <(cargo test --no-run --tests -p readyloop -p readyloop-integration --message-format=json 2>/dev/null |
    jq -r 'select(.reason == "compiler-artifact" and .executable != null
                  and .profile.test == true) | "\(.target.name) \(.executable)"')
cargo build --examples --quiet
echo "built ${#built[@]} test binaries and the examples in $(( $(date +%s) - start )) s"
bins=()
for name in $slow_first; do
    for entry in "${built[@]}"; do
        [ "${entry%% *}" = "$name" ] && bins+=("$entry")
    done
done
for entry in "${built[@]}"; do
    [[ "$slow_first" == *" ${entry%% *} "* ]] || bins+=("$entry")
done
rm -rf "$logs"
mkdir -p "$logs"

# Runs one binary (rerun once on a test failure); leaves NAME.failed in $logs if it fails.
run_binary() {
    local name=$1 exe=$2 attempt rc t0 messages
    for attempt in 1 2; do
        rm -f "$logs/$name".*.vg
        t0=$(date +%s)
        rc=0
        timeout --kill-after=10 300 "${VALGRIND[@]}" --log-file="$logs/$name.%p.vg" \
            "$exe" -q --test-threads=1 >"$logs/$name.log" 2>&1 || rc=$?
        # Valgrind's messages for the binary and every example it ran (-q: none if clean).
        # Less valgrind 3.19's five-line warning that it lacks pidfd_open (syscall 434):
        # readyloop::process then falls back to waitid(P_PID), as on Linux before 5.3; and
        # its three-line note that it does not model ioctl 0x5441 (TIOCGPTPEER, which
        # glibc's openpty calls in the tty tests): a note, not an error in our code.
        messages=$(cat "$logs/$name".*.vg 2>/dev/null | grep -v -e 'unhandled amd64-linux syscall: 434$' \
            -e 'You may be able to write your own handler\.$' -e 'README_MISSING_SYSCALL_OR_IOCTL\.$' \
            -e 'Nevertheless we consider this a bug\.  Please report$' \
            -e 'it at http://valgrind\.org/support/bug_reports\.html\.$' \
            -e 'Warning: noted but unhandled ioctl 0x5441 with no size/direction hints\.$' \
            -e 'This could cause spurious value errors to appear\.$' \
            -e 'See README_MISSING_SYSCALL_OR_IOCTL for guidance on writing a proper wrapper\.$' || true)
        if [ -n "$messages" ] && [ "$rc" -ne 124 ]; then rc=1; fi
        echo "run    $name: exit $rc in $(( $(date +%s) - t0 )) s (attempt $attempt)"
        if { [ "$rc" -eq 101 ] || [ "$rc" -eq 124 ]; } && [ "$attempt" -eq 1 ]; then
            mv "$logs/$name.log" "$logs/$name.attempt1.log"
            grep -A1 'panicked at' "$logs/$name.attempt1.log" | grep -v '^--$' | head -20 || true
            continue
        fi
        break
    done
    if [ "$rc" -ne 0 ]; then
        {
            echo "FAILED $name (exit $rc: 1 = valgrind error, 101 = test failure, 124 = timeout)"
            tail -n 80 "$logs/$name.log"
            if [ -n "$messages" ]; then echo "$messages" | head -200; fi
        } >"$logs/$name.failed"
    fi
}

for entry in "${bins[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
    run_binary "${entry%% *}" "${entry#* }" &
done
wait

failed=0
for report in "$logs"/*.failed; do
    [ -e "$report" ] || continue
    cat "$report"
    failed=1
done
echo "valgrind (test binaries): $(( $(date +%s) - start )) s"

# The doctests.
doc_start=$(date +%s)
runtool=(-Zunstable-options --test-runtool valgrind)
for arg in "${COMMON[@]}"; do runtool+=("--test-runtool-arg=$arg"); done
for attempt in 1 2; do
    set +e
    RUSTDOCFLAGS="--cfg rustix_use_libc ${runtool[*]}" \
        CARGO_TARGET_DIR="$CARGO_TARGET_DIR/nightly-doc" \
        timeout 900 cargo +nightly test --doc --quiet >"$logs/doctests.log" 2>&1
    rc=$?
    set -e
    echo "run    doctests: exit $rc in $(( $(date +%s) - doc_start )) s (attempt $attempt)"
    [ "$rc" -eq 0 ] && break
    if [ "$attempt" -eq 1 ] && ! grep -qE '^==[0-9]+== ' "$logs/doctests.log"; then
        grep -E '^    src/|panicked' "$logs/doctests.log" | head -20
        cp "$logs/doctests.log" "$logs/doctests.attempt1.log"
        continue
    fi
    echo "FAILED doctests (exit $rc)"
    grep -E '^==[0-9]+== |^    src/|panicked' "$logs/doctests.log" | head -80
    failed=1
    break
done
echo "valgrind: $(( $(date +%s) - start )) s in all"
exit "$failed"
