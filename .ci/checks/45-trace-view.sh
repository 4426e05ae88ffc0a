#!/usr/bin/env bash
# trace-view on the flagship daemon: echo_server runs with READYLOOP_TRACE for 1 s under load
# from 20 nc-free clients (bash /dev/tcp), stops on SIGTERM (flushing the trace), and
# trace-view turns the trace into an SVG that rsvg-convert must render, and into the story.
# Also runs the tool's own tests (a stuck test's trace, 1,000 tasks aggregated, bad input).
set -euo pipefail
cd "$(dirname "$0")/../.."
step() { echo "--- $*"; }
command -v rsvg-convert >/dev/null || (apt-get update -qq && apt-get install -y -qq librsvg2-bin >/dev/null)
command -v python3 >/dev/null || (apt-get update -qq && apt-get install -y -qq python3 >/dev/null)

step "trace-view tests"
timeout 600 cargo test -p readyloop-trace-view

step "echo_server traced under load for 1 s"
timeout 600 cargo build -p readyloop --example echo_server && timeout 600 cargo build -p readyloop-trace-view
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
READYLOOP_TRACE="$work/echo.jsonl" target/debug/examples/echo_server 127.0.0.1:0 >"$work/out" &
server=$!
for _ in $(seq 50); do grep -q listening "$work/out" && break; sleep 0.1; done
port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$work/out")
test -n "$port" || { echo "echo_server did not start"; cat "$work/out"; exit 1; }
python3 - "$port" <<'PY'
import socket, sys, time
port = int(sys.argv[1]); end = time.time() + 1.0; rounds = 0
conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]
while time.time() < end:
    for c in conns:
        c.sendall(b"ping ping ping\n")
    for c in conns:
        got = b""
        while len(got) < 15:
            got += c.recv(64)
        rounds += 1
print(f"{rounds} round trips in 1 s")
assert rounds > 100, rounds
PY
kill -TERM "$server"
wait "$server"
lines=$(wc -l <"$work/echo.jsonl")
echo "trace: $lines events"
test "$lines" -gt 1000

step "render: SVG through rsvg-convert, and the story"
timeout 120 target/debug/trace-view svg "$work/echo.jsonl" "$work/echo.svg"
timeout 120 rsvg-convert "$work/echo.svg" -o "$work/echo.png"
test -s "$work/echo.png"
python3 -c "import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])" "$work/echo.svg"
grep -q 'handler' "$work/echo.svg" || grep -q 'task ' "$work/echo.svg"
timeout 120 target/debug/trace-view story "$work/echo.jsonl" >"$work/story.txt"
grep -q "loop asks the kernel" "$work/story.txt"
echo "ok: $(du -h "$work/echo.svg" | cut -f1) SVG, $(wc -l <"$work/story.txt") story lines"
