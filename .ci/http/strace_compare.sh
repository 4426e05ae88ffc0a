#!/usr/bin/env bash
# strace of N keep-alive GET / requests: hyper on readyloop (examples/http_server) against
# hyper on tokio current_thread (examples/hyper_tokio_server). Prints each server's syscall
# counts by kind and fails if readyloop makes more syscalls per request than tokio (+5%).
# Usage: strace_compare.sh DIR_WITH_EXAMPLES [N]
set -euo pipefail
dir=$1
n=${2:-20000}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run() { # name binary
    local name=$1 bin=$2
    strace -f -qq -c -o "$tmp/$name.strace" "$bin" 127.0.0.1:0 >"$tmp/$name.out" &
    local pid=$!
    for _ in $(seq 100); do grep -q "listening on" "$tmp/$name.out" 2>/dev/null && break; sleep 0.1; done
    local addr
    addr=$(sed -n 's/^listening on //p' "$tmp/$name.out")
    [ -n "$addr" ] || { echo "$name did not start"; kill "$pid"; exit 1; }
    timeout 300 python3 "$here/keepalive_client.py" "$addr" "$n"
    # SIGTERM to the server itself (strace's child), which exits 0; strace then writes its
    # summary and exits with the server's status.
    kill -TERM "$(pgrep -P "$pid")"
    local status=0
    wait "$pid" || status=$?
    [ "$status" = 0 ] || { echo "$name exited with $status after SIGTERM"; exit 1; }
}
run readyloop "$dir/http_server"
run tokio "$dir/hyper_tokio_server"
python3 - "$tmp/readyloop.strace" "$tmp/tokio.strace" "$n" <<'PY'
import sys
def counts(path):
    out = {}
    for line in open(path):
        f = line.split()
        if len(f) >= 5 and f[0][0].isdigit() and f[-1] not in ("total",):
            calls = int(f[3]); name = f[-1]
            out[name] = calls
    return out
rl, tk, n = counts(sys.argv[1]), counts(sys.argv[2]), int(sys.argv[3])
names = sorted(set(rl) | set(tk), key=lambda k: -(rl.get(k, 0) + tk.get(k, 0)))
print(f"{'syscall':<18}{'readyloop':>12}{'tokio':>12}")
for k in names:
    print(f"{k:<18}{rl.get(k, 0):>12}{tk.get(k, 0):>12}")
trl, ttk = sum(rl.values()), sum(tk.values())
print(f"{'total':<18}{trl:>12}{ttk:>12}")
print(f"per request: readyloop {trl / n:.2f}, tokio {ttk / n:.2f}")
if trl > ttk * 1.05 + 200:
    sys.exit("readyloop makes more syscalls per keep-alive request than tokio")
PY
