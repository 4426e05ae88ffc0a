#!/usr/bin/env bash
# The test suite under valgrind memcheck: zero errors and zero definite/indirect leaks.
#
# rustix's raw syscall backend crashes under valgrind (rustix issue 1559), so everything is
# built with `--cfg rustix_use_libc`, in its own target dir (target/valgrind) so the normal
# build is not invalidated. Every integration test binary and the lib's unit tests run under
#   valgrind --error-exitcode=1 -q --leak-check=full --errors-for-leak-kinds=definite,indirect
# ("possibly lost" blocks are std's per-thread handles still owned by the harness at exit:
# reported by default, not errors; hidden here to keep the log readable).
# Doctests are not run under valgrind (rustdoc ignores the runner).
#
# READYLOOP_UNDER_VALGRIND=1 is set for the runs; tests that read it shrink themselves:
#   model.rs  -> 24 proptest cases instead of 96
# Not run at all (not meaningful under valgrind, or too slow for the budget):
#   examples, coord_examples, net_examples, echo_server, shutdown: they run example binaries as child
#     processes, which valgrind does not follow; the loop code they use is covered elsewhere.
#   limits: sized for release builds (65-limits.sh runs it); a million tasks under
#     valgrind would take many minutes.
#   accept_emfile: its one test bounds the out-of-fds back-off in wall time.
# Skipped tests (they assert timing: a sleeper woken within N ms, a grid tick exactly on
# time, who of two sleepers finishes first; valgrind slows code 20-50x, so they fail for
# timing, not memory, reasons; plain `cargo test` checks them):
#   abort:    aborting_a_task_parked_on_a_timer_disarms_it
#   blocking: runs_off_the_loop_thread_while_the_loop_keeps_serving
#   fairness: a_task_that_wakes_itself_forever_cannot_starve_io_or_timers,
#             an_always_ready_reader_cannot_starve_sleepers_or_other_readers
#   gather:   vec_outputs_in_input_order_and_concurrently
#   interval: ticks_stay_on_the_grid, burst_fires_every_missed_tick_then_keeps_the_grid,
#             delay_restarts_the_period_from_the_late_tick,
#             skip_drops_missed_ticks_and_keeps_the_phase
#   tasks:    dropping_a_join_handle_detaches_and_the_output_is_dropped
#   timers:   timers_fire_in_deadline_order_fifo_among_equals_and_never_early (its deadlines
#             are 20 ms after arming starts; model.rs checks the same order without that),
#             the_wait_is_as_long_as_the_nearest_deadline_with_nanosecond_timeouts
#   wait:     all_completed_like_seed_003
#   virtual_clock: an_hour_of_timeouts_in_milliseconds_with_a_real_socket, one_virtual_hour,
#             block_on_timeout_in_virtual_time (a virtual hour must take under 1 s of real
#             time; the report's "due in" is read to the millisecond)
#   trace:    virtual_clock_jumps_are_traced (the jump is the deadline minus the real time
#             spent before it, which valgrind stretches)
# Skipped as too slow for the budget (the same code runs in their smaller siblings):
#   tcp/unix: transfer_64mib_v4, transfer_64mib_v6, transfer_64mib_unix (~20 s each),
#             thousand_concurrent_clients_v6 (the v4 and unix ones run)
#   protocol: output_buffer_matches_a_vecdeque (a proptest of safe bookkeeping, ~60 s here;
#             fuzz/transport_buffer covers it), echo_to_a_peer_that_never_reads_pauses_then_resumes
#             and producer_pauses_on_high_water_and_close_flushes_everything (megabytes
#             through the buffer, ~20 s each; the smaller protocol tests run the same code)
# Tests run one at a time (--test-threads=1) so one test's work does not delay another's
# timers. A binary that fails a test (exit 101) with no valgrind error is rerun once (timing under
# a 2-core machine shared with valgrind); a valgrind error (exit 1) fails at once.
# Budget on an idle 2-core machine: about 90 s to build, about 2 min to run; each binary
# is capped at 300 s.
set -euo pipefail
cd "$(dirname "$0")/../.."

for tool in valgrind jq; do
    command -v "$tool" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$tool" >/dev/null; }
done
valgrind --version

export RUSTFLAGS="--cfg rustix_use_libc"
export CARGO_TARGET_DIR="${VALGRIND_TARGET_DIR:-$PWD/target/valgrind}"
export READYLOOP_UNDER_VALGRIND=1
VALGRIND=(valgrind --error-exitcode=1 -q --leak-check=full
    --errors-for-leak-kinds=definite,indirect --show-possibly-lost=no)

skip_binaries=" examples coord_examples net_examples echo_server shutdown limits accept_emfile "
skip_tests=(
    aborting_a_task_parked_on_a_timer_disarms_it
    runs_off_the_loop_thread_while_the_loop_keeps_serving
    a_task_that_wakes_itself_forever_cannot_starve_io_or_timers
    an_always_ready_reader_cannot_starve_sleepers_or_other_readers
    vec_outputs_in_input_order_and_concurrently
    ticks_stay_on_the_grid
    burst_fires_every_missed_tick_then_keeps_the_grid
    delay_restarts_the_period_from_the_late_tick
    skip_drops_missed_ticks_and_keeps_the_phase
    dropping_a_join_handle_detaches_and_the_output_is_dropped
    all_completed_like_seed_003
    timers_fire_in_deadline_order_fifo_among_equals_and_never_early
    the_wait_is_as_long_as_the_nearest_deadline_with_nanosecond_timeouts
    transfer_64mib_v4
    transfer_64mib_v6
    transfer_64mib_unix
    thousand_concurrent_clients_v6
    an_hour_of_timeouts_in_milliseconds_with_a_real_socket
    one_virtual_hour
    block_on_timeout_in_virtual_time
    virtual_clock_jumps_are_traced
    output_buffer_matches_a_vecdeque
    echo_to_a_peer_that_never_reads_pauses_then_resumes
    producer_pauses_on_high_water_and_close_flushes_everything
)
skip_args=()
for t in "${skip_tests[@]}"; do skip_args+=(--skip "$t"); done

start=$(date +%s)
# One JSON line per artifact; keep the test executables (lib unit tests and tests/*.rs).
mapfile -t bins < <(cargo test --no-run --tests --message-format=json 2>/dev/null |
    jq -r 'select(.reason == "compiler-artifact" and .executable != null
                  and .profile.test == true) | "\(.target.name) \(.executable)"')
echo "built ${#bins[@]} test binaries in $(( $(date +%s) - start )) s"

failed=0
for entry in "${bins[@]}"; do
    name=${entry%% *}
    exe=${entry#* }
    if [[ "$skip_binaries" == *" $name "* ]]; then
        echo "skip   $name"
        continue
    fi
    for attempt in 1 2; do
        t0=$(date +%s)
        set +e
        timeout 300 "${VALGRIND[@]}" "$exe" -q --test-threads=1 "${skip_args[@]}" >"$CARGO_TARGET_DIR/$name.log" 2>&1
        rc=$?
        set -e
        echo "run    $name: exit $rc in $(( $(date +%s) - t0 )) s (attempt $attempt)"
        [ "$rc" -eq 101 ] && [ "$attempt" -eq 1 ] && { grep -E '^    |panicked' "$CARGO_TARGET_DIR/$name.log" | head -20; continue; }
        break
    done
    if [ "$rc" -ne 0 ]; then
        echo "FAILED $name (exit $rc: 1 = valgrind error, 101 = test failure, 124 = timeout)"
        tail -n 80 "$CARGO_TARGET_DIR/$name.log"
        failed=1
    fi
done
echo "valgrind: $(( $(date +%s) - start )) s in all"
exit "$failed"
