#!/usr/bin/env bash
# Limits at full size (tests/limits.rs in release): 10,000 registered fds, 1,000,000 pending
# timers, 1,000,000 live tasks, 100,000 cross-thread wakes from 4 threads; each at N and
# N/10, with memory per item and the N vs N/10 time ratio checked, figures printed.
# (A debug `cargo test` runs the same tests at a tenth of the size.) About 40 s to build,
# under 10 s to run.
set -euo pipefail
cd "$(dirname "$0")/../.."
timeout 600 cargo test --release --test limits -- --nocapture --test-threads=1 2>&1 |
    grep -v '^$'
