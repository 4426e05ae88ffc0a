#!/usr/bin/env bash
# hyper, rustls, tungstenite and reqwless on readyloop (issue 21): the example HTTP server
# against real curl (keep-alive, 10 MiB POST, chunked upload, HTTP/2 prior knowledge,
# header read timeout, graceful SIGTERM), a hyper client (h1 and h2), a WebSocket upgraded
# through hyper and a plain one, TLS echo and HTTPS (futures-rustls, rcgen), reqwless over
# embedded-nal-async; then strace of 20,000 keep-alive requests against hyper on tokio
# current_thread (the syscall count per request must not exceed tokio's). Installs curl,
# strace and python3 if missing. About 2 min to build, 1 min to run.
set -euo pipefail
cd "$(dirname "$0")/../.."
need() { command -v "$1" >/dev/null || (apt-get update -qq && apt-get install -y -qq "$2"); }
need curl curl
need strace strace
need python3 python3
need pgrep procps

timeout 900 cargo test -p readyloop-integration \
    --test http_curl --test hyper_rt --test websocket --test tls --test reqwless
timeout 600 cargo build --release -p readyloop-integration \
    --example http_server --example hyper_tokio_server
timeout 600 .ci/http/strace_compare.sh target/release/examples 20000
