#!/usr/bin/env bash
# The whole test suite against the select(2) and epoll(7) backends (poll is the default and
# runs in the main `cargo test`). build.rs makes READYLOOP_BACKEND the default backend; each
# backend builds into its own target dir so switching does not rebuild the others.
set -euo pipefail
cd "$(dirname "$0")/../.."
for backend in select epoll; do
    echo "--- READYLOOP_BACKEND=$backend cargo test"
    READYLOOP_BACKEND=$backend CARGO_TARGET_DIR=target/backend-$backend \
        timeout 900 cargo test --quiet
done
