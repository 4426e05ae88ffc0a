#!/usr/bin/env bash
# readyloop::signal without std: the `signal` feature (libc for sigaction only) must build
# against core + alloc alone; fails with "duplicate lang item" if std leaks in.
set -euo pipefail
cd "$(dirname "$0")/../.."
rustup component add rust-src --toolchain nightly >/dev/null
timeout 600 cargo build --lib --no-default-features --features signal
timeout 600 cargo +nightly build -Zbuild-std=core,alloc --target x86_64-unknown-linux-gnu --lib \
    --no-default-features --features signal --target-dir target/build-std
