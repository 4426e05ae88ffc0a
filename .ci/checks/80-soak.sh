#!/usr/bin/env bash
# Soak (examples/soak.rs): 60 s, 1,000 loopback connections against the release build of
# examples/echo_server (normal, slow readers, half-closes, resets, idle, never-reading
# peers), then: no byte lost or corrupted, no server fd leaked, server VmRSS within 5 % of
# its post-warm-up level, a final round trip, exit 0 on SIGTERM. Build ~1 min, run 61 s.
set -euo pipefail
cd "$(dirname "$0")/../.."
timeout 600 cargo build --release --example echo_server --example soak
target_dir=${CARGO_TARGET_DIR:-target}
timeout 180 "$target_dir/release/examples/soak" \
    --server "$target_dir/release/examples/echo_server" --seconds 60 --connections 1000
