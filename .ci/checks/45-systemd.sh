#!/usr/bin/env bash
# readyloop::systemd against the real systemd-socket-activate (Debian's systemd package):
# TCP and Unix listeners passed by name, notifications to a stand-in NOTIFY_SOCKET, the
# watchdog's timing; the reference daemon (examples/daemon.rs) end to end; then the
# feature's no_std builds. CI=1 makes a missing tool a failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v systemd-socket-activate || (apt-get update && apt-get install -y systemd)
CI=1 timeout 900 cargo test --features systemd --test systemd
# examples/daemon.rs end to end: activation, READY, watchdog, reloads, child restarts, drain.
CI=1 timeout 900 cargo test --features systemd --test daemon
rustup component add rust-src --toolchain nightly >/dev/null
timeout 600 cargo build --lib --no-default-features --features systemd
timeout 600 cargo +nightly build -Zbuild-std=core,alloc --target x86_64-unknown-linux-gnu --lib \
    --no-default-features --features systemd --target-dir target/build-std
