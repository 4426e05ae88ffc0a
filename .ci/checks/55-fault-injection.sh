#!/usr/bin/env bash
# Fault injection: the release echo_server and protocol_echo (the Protocol server) run under
# `strace -f -e inject=...` while examples/echo_check sends 64 KiB on each of 40 connections
# (100 x 4 KiB for the last-send case) and classifies every one (exact / reset / short / wrong
# / failed). Injected: spurious EAGAIN and EINTR on every other recvfrom and sendto, ENOBUFS
# on sendto (also on the last send of a connection, where a plain close would send a FIN),
# EMFILE and ECONNABORTED on every other accept4, EINTR on every other ppoll (and epoll_pwait,
# on an epoll build of echo_server). After each run the idle server's CPU is read from
# /proc/PID/stat over 1 s. Fails if strace injected nothing, if any connection ended short,
# wrong or failed, if a transient error (anything but ENOBUFS) cost a reset, if the idle
# server used CPU, or if a server did not exit 0 on SIGTERM. Prints a table. About 1.5 min:
# two release builds (~40 s each when cold) and 19 runs of ~1.5 s.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v strace >/dev/null || (apt-get update -qq && apt-get install -y -qq strace >/dev/null)

target_dir=${CARGO_TARGET_DIR:-target}
timeout 600 cargo build -q --release --example echo_server --example protocol_echo \
    --example echo_check
bin=$target_dir/release/examples
# epoll_pwait is called only by an epoll build (the backend is chosen at build time).
READYLOOP_BACKEND=epoll timeout 600 cargo build -q --release --example echo_server \
    --target-dir "$target_dir/fault-epoll"
epoll_bin=$target_dir/fault-epoll/release/examples

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
hz=$(getconf CLK_TCK)
failures=0

first_child() { # the first child of PID (empty if none)
    [ -n "$1" ] && awk '{print $1}' "/proc/$1/task/$1/children" 2>/dev/null
}

cpu_ticks() { # utime + stime of PID, in clock ticks (fields 14 and 15 of /proc/PID/stat)
    sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}

# run NAME SERVER_BIN SYSCALL INJECT RESETS_ALLOWED [SERVER_ARGS...]
run() {
    local name=$1 server=$2 syscall=$3 inject=$4 resets_ok=$5
    shift 5
    local trace=$work/$name.trace out=$work/$name.out err=$work/$name.err
    : >"$out"
    # --seccomp-bpf: only the traced syscall stops the server, so the rest runs at speed.
    timeout 60 strace -f -qq --seccomp-bpf -o "$trace" -e trace="$syscall" \
        -e inject="$syscall:$inject" "$server" "$@" 127.0.0.1:0 >"$out" 2>"$err" &
    local tracer=$!
    local i
    for i in $(seq 100); do grep -q '^listening on ' "$out" && break; sleep 0.05; done
    local addr pid
    addr=$(sed -n 's/^listening on //p' "$out" | head -1)
    # The server is the child of strace, itself the child of timeout.
    pid=$(first_child "$(first_child "$tracer")")
    if [ -z "$addr" ] || [ -z "$pid" ]; then
        echo "FAIL $name: the server did not start: $(cat "$err")"
        failures=$((failures + 1))
        kill "$tracer" 2>/dev/null || true
        return
    fi
    local counts
    # shellcheck disable=SC2086 # the client's options are words
    counts=$(timeout 60 "$bin/echo_check" "$addr" $client --timeout 20 || true)
    # The idle probe: connections are all closed now; nothing should wake the loop.
    sleep 0.3
    local t0 t1 cpu
    t0=$(cpu_ticks "$pid")
    sleep 1
    t1=$(cpu_ticks "$pid")
    cpu=$(awk -v d=$((t1 - t0)) -v hz="$hz" 'BEGIN {printf "%.1f", d / hz * 100}')
    kill -TERM "$pid"
    local status=0
    wait "$tracer" || status=$?
    local injected
    injected=$(grep -c 'INJECTED' "$trace" || true)
    local exact reset short wrong failed
    read -r _ exact _ reset _ short _ wrong _ failed <<<"$counts"
    printf '%-36s %-38s %8s %6s %6s %6s %6s %7s %%\n' "$name" "$syscall:$inject" \
        "$injected" "${exact:-?}" "${reset:-?}" "${short:-?}" "$((${wrong:-1} + ${failed:-1}))" "$cpu"
    local why=()
    [ "${injected:-0}" -gt 0 ] || why+=("nothing injected")
    [ "${short:-1}" = 0 ] || why+=("clean-but-short connections")
    [ "${wrong:-1}" = 0 ] && [ "${failed:-1}" = 0 ] || why+=("wrong bytes or failed connections")
    [ "$resets_ok" = yes ] || [ "${reset:-1}" = 0 ] || why+=("resets from a transient error")
    [ "$(awk -v c="$cpu" 'BEGIN {print (c <= 3.0)}')" = 1 ] || why+=("idle CPU $cpu %")
    [ "$status" = 0 ] || why+=("exit status $status")
    if [ ${#why[@]} -gt 0 ]; then
        echo "FAIL $name: ${why[*]}"
        echo "  echo_check: $counts"
        sed 's/^/  server: /' "$err" | tail -5
        failures=$((failures + 1))
    fi
}

printf '%-36s %-38s %8s %6s %6s %6s %6s %7s\n' scenario injection injected exact reset \
    short bad "idle CPU"
# 40 clients of 64 KiB: many recv and send calls per connection.
many_calls="--conns 40 --bytes 65536 --chunk 4096"
# 100 clients of 4 KiB, sent at once: echo_server (1 KiB reads) sends each echo in 4 calls, so
# ENOBUFS on every 8th call from the 4th fails a connection's last send, when its receive
# queue is empty: a plain close would send a FIN there (before the abortive close: 50 of
# 100 connections ended clean but short).
last_send="--conns 100 --bytes 4096 --chunk 4096"
for server in echo_server protocol_echo; do
    s=$bin/$server
    client=$many_calls
    run "$server recv EAGAIN" "$s" recvfrom error=EAGAIN:when=1+2 no
    run "$server recv EINTR" "$s" recvfrom error=EINTR:when=1+2 no
    run "$server send EAGAIN" "$s" sendto error=EAGAIN:when=1+2 no
    run "$server send EINTR" "$s" sendto error=EINTR:when=1+2 no
    run "$server send ENOBUFS" "$s" sendto error=ENOBUFS:when=4+8 yes
    client=$last_send
    run "$server send ENOBUFS, last send" "$s" sendto error=ENOBUFS:when=4+8 yes
    client=$many_calls
    run "$server accept EMFILE" "$s" accept4 error=EMFILE:when=1+2 no
    run "$server accept ECONNABORTED" "$s" accept4 error=ECONNABORTED:when=1+2 no
    run "$server ppoll EINTR" "$s" ppoll error=EINTR:when=1+2 no
done
client=$many_calls
run "echo_server(epoll) epoll_pwait EINTR" "$epoll_bin/echo_server" epoll_pwait \
    error=EINTR:when=1+2 no

if [ "$failures" -gt 0 ]; then
    echo "fault injection: $failures scenario(s) failed"
    exit 1
fi
echo "fault injection: all scenarios passed"
